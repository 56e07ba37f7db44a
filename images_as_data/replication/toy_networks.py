"""Section 3 of the book: the county vote-share data, its linear model and two toy networks.

Table 3.1 (seven California counties) comes from config/book_reference.yaml. Figure 3.1 is
an ordinary least squares model of Clinton's vote share; Figure 3.2 a 4-2-1 network (ReLU
hidden layer, sigmoid output); Figure 3.4 the same with a 1x2 convolutional filter; Figure
3.3 the three activation functions.

The networks' four inputs are the three standardised county variables plus a constant 1.
The book draws four input nodes but lists three predictors; the constant input gives the
hidden units their intercepts, as a "bias node" does in the book's drawings, so the hidden
layer has no separate bias. Standardising keeps income (hundreds of dollars) from
swamping the percentages. Networks are trained full-batch in float64 on the CPU with a
fixed seed, so reruns give identical numbers.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import torch
from torch import nn

from images_as_data.common.atomic import save_figure, write_csv, write_text
from images_as_data.common.plotting import plt
from images_as_data.replication.book_reference import load_book_reference

PREDICTORS = ["white_pct", "college_pct", "median_income_100usd"]
TARGET = "vote_share"
COUNTY_COLUMNS = ["county", *PREDICTORS, TARGET]
PRINTED_VOTE_SHARE_DECIMALS = 2
ROUND_DECIMALS = 6  # stored precision: far below any effect, stable across platforms


def county_table(reference: dict) -> pd.DataFrame:
    """Table 3.1 as a DataFrame, checked for the columns the models need."""
    rows = reference.get("table_3_1")
    if not rows:
        raise ValueError("config/book_reference.yaml: section 'table_3_1' (the county data) is missing or empty")
    frame = pd.DataFrame(rows)
    missing = [c for c in COUNTY_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"config/book_reference.yaml: table_3_1 rows lack the keys {missing}")
    return frame[COUNTY_COLUMNS]


# --- Figure 3.1: the linear model -------------------------------------------------------


@dataclass(frozen=True)
class LinearVariant:
    """One specification tried against the book's white-% coefficient."""

    name: str
    regressors: tuple[str, ...]
    intercept: bool = True
    scaling: str = "as printed"  # "as printed", "fractions" (percentages / 100) or "standardised"


LINEAR_VARIANTS = (
    LinearVariant("book: three regressors", tuple(PREDICTORS)),
    LinearVariant("white % only", ("white_pct",)),
    LinearVariant("white % and college %", ("white_pct", "college_pct")),
    LinearVariant("white % and income", ("white_pct", "median_income_100usd")),
    LinearVariant("three regressors, percentages as fractions", tuple(PREDICTORS), scaling="fractions"),
    LinearVariant("three regressors, standardised", tuple(PREDICTORS), scaling="standardised"),
    LinearVariant("three regressors, no intercept", tuple(PREDICTORS), intercept=False),
)


def design_matrix(counties: pd.DataFrame, variant: LinearVariant) -> np.ndarray:
    """Regressor matrix of a variant (intercept column first when it has one)."""
    columns = []
    for name in variant.regressors:
        values = counties[name].to_numpy(dtype=float)
        if variant.scaling == "fractions" and name.endswith("_pct"):
            values = values / 100
        elif variant.scaling == "standardised":
            values = (values - values.mean()) / values.std(ddof=1)
        columns.append(values)
    if variant.intercept:
        columns.insert(0, np.ones(len(counties)))
    return np.column_stack(columns)


def fit_linear_variant(counties: pd.DataFrame, variant: LinearVariant, book_white: float) -> pd.DataFrame:
    """OLS estimates of one variant, one row per term, with R squared and the book's white-% value."""
    design = design_matrix(counties, variant)
    target = counties[TARGET].to_numpy(dtype=float)
    estimates, *_ = np.linalg.lstsq(design, target, rcond=None)
    residuals = target - design @ estimates
    r_squared = 1 - residuals @ residuals / ((target - target.mean()) @ (target - target.mean()))
    terms = (["intercept"] if variant.intercept else []) + list(variant.regressors)
    rows = []
    for term, estimate in zip(terms, estimates):
        book = book_white if term == "white_pct" else np.nan
        rows.append(
            {
                "model": variant.name,
                "book_specification": variant == LINEAR_VARIANTS[0],
                "scaling": variant.scaling,
                "term": term,
                "estimate": estimate,
                "book_estimate": book,
                "difference": estimate - book,
                "r_squared": r_squared,
            }
        )
    return pd.DataFrame(rows)


def linear_model_table(counties: pd.DataFrame, book_white: float) -> pd.DataFrame:
    """Estimates of every variant in LINEAR_VARIANTS, rounded for stable output."""
    frame = pd.concat([fit_linear_variant(counties, v, book_white) for v in LINEAR_VARIANTS], ignore_index=True)
    numeric = ["estimate", "book_estimate", "difference", "r_squared"]
    frame[numeric] = frame[numeric].round(ROUND_DECIMALS)
    return frame


def white_coefficient_rounding_bound(counties: pd.DataFrame) -> float:
    """Largest change in the book model's white-% coefficient if each printed vote share moved
    by up to half a unit of its last digit (the unrounded shares could lie anywhere there)."""
    design = design_matrix(counties, LINEAR_VARIANTS[0])
    white_row = np.linalg.pinv(design)[1 + PREDICTORS.index("white_pct")]
    return float(0.5 * 10**-PRINTED_VOTE_SHARE_DECIMALS * np.abs(white_row).sum())


def white_coefficient_note(table: pd.DataFrame, rounding_bound: float, decimals: int) -> str:
    """Plain-language account of the gap between this run's and the book's white-% coefficient."""
    white = table[table["term"] == "white_pct"].set_index("model")
    book_model = LINEAR_VARIANTS[0].name
    ours = white.loc[book_model, "estimate"]
    book = white.loc[book_model, "book_estimate"]
    closest = (white["difference"].abs()).idxmin()
    lines = [
        f"The book's model (intercept, white %, college %, median income) gives a white-% "
        f"coefficient of {ours:.{decimals}f}; the book prints {book:.{decimals}f} "
        f"(difference {ours - book:+.{decimals}f}).",
        f"The vote shares in Table 3.1 are printed with {PRINTED_VOTE_SHARE_DECIMALS} decimals; "
        f"unrounded shares anywhere within half a unit of those could move the coefficient by up to "
        f"{rounding_bound:.{decimals}f}, so "
        + (
            "the gap is within what the printed data allow."
            if abs(ours - book) <= rounding_bound
            else "rounding of the printed data alone does not explain the gap."
        ),
    ]
    alternatives = "; ".join(
        f"{model}: {row.estimate:.{decimals}f}" for model, row in white.iterrows() if model != book_model
    )
    lines.append(f"Other specifications give: {alternatives}.")
    if closest == book_model:
        lines.append("None of them comes closer to the book's number than the book's own specification.")
    else:
        lines.append(f"The specification closest to the book's number is '{closest}'.")
    return " ".join(lines)


# --- Figures 3.2 and 3.4: the toy networks ----------------------------------------------


def network_inputs(counties: pd.DataFrame) -> torch.Tensor:
    """The networks' four inputs: standardised white %, college %, income, then a constant 1."""
    values = counties[PREDICTORS].to_numpy(dtype=float)
    standardised = (values - values.mean(axis=0)) / values.std(axis=0, ddof=1)
    with_constant = np.column_stack([standardised, np.ones(len(counties))])
    return torch.tensor(with_constant, dtype=torch.float64)


class DenseNetwork(nn.Module):
    """Figure 3.2: 4 inputs -> 2 ReLU hidden units -> 1 sigmoid output."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(4, 2, bias=False)  # the constant input acts as the bias
        self.output = nn.Linear(2, 1)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.output(torch.relu(self.hidden(inputs)))).squeeze(-1)


class ConvNetwork(nn.Module):
    """Figure 3.4: one 1x2 filter slides over the 4 inputs with stride 2, giving the same
    2 hidden units as Figure 3.2 but with shared weights; ReLU, then a sigmoid output."""

    def __init__(self) -> None:
        super().__init__()
        self.filter = nn.Conv1d(in_channels=1, out_channels=1, kernel_size=2, stride=2)
        self.output = nn.Linear(2, 1)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        hidden = torch.relu(self.filter(inputs.unsqueeze(1))).squeeze(1)
        return torch.sigmoid(self.output(hidden)).squeeze(-1)


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one thread: for seven rows, threads only add overhead (and scheduling noise)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def build_network(kind: type[nn.Module], seed: int) -> nn.Module:
    """A freshly initialised float64 network whose weights depend only on ``seed``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return kind().to(torch.float64)


def train_network(
    model: nn.Module, inputs: torch.Tensor, target: torch.Tensor, epochs: int, learning_rate: float
) -> list[float]:
    """Full-batch Adam on mean squared error (the linear model's loss); returns the loss per epoch."""
    optimiser = torch.optim.Adam(model.parameters(), lr=learning_rate)
    loss_fn = nn.MSELoss()
    history = []
    for _ in range(epochs):
        optimiser.zero_grad()
        loss = loss_fn(model(inputs), target)
        loss.backward()
        optimiser.step()
        history.append(loss.item())
    return history


def fitted_values_table(
    counties: pd.DataFrame, model: nn.Module, inputs: torch.Tensor, epochs: int, init_seed: int
) -> pd.DataFrame:
    """One row per county: observed and fitted vote share, squared error and the final training loss."""
    with torch.no_grad():
        fitted = model(inputs).numpy()
    observed = counties[TARGET].to_numpy(dtype=float)
    squared_error = (observed - fitted) ** 2
    frame = pd.DataFrame(
        {
            "county": counties["county"],
            "vote_share": observed,
            "fitted": fitted,
            "squared_error": squared_error,
            "training_loss": squared_error.mean(),
            "epochs": epochs,
            "init_seed": init_seed,
        }
    )
    numeric = ["fitted", "squared_error", "training_loss"]
    frame[numeric] = frame[numeric].round(ROUND_DECIMALS)
    return frame


def fit_network(
    kind: type[nn.Module], counties: pd.DataFrame, seed: int, epochs: int, learning_rate: float, restarts: int = 1
) -> pd.DataFrame:
    """Train one toy network on Table 3.1 and return its fitted values.

    With two ReLU units and seven counties, an unlucky start can leave a unit inactive for
    every county for good (a "dead" ReLU), so the network is trained from ``restarts``
    initialisations (seeds seed, seed + 1, ...) and the lowest final loss is kept.
    """
    if restarts < 1:
        raise ValueError(f"replication.toy_restarts must be at least 1, got {restarts}")
    inputs = network_inputs(counties)
    target = torch.tensor(counties[TARGET].to_numpy(dtype=float), dtype=torch.float64)
    best: tuple[float, int, nn.Module] | None = None
    with single_thread():
        for init_seed in range(seed, seed + restarts):
            model = build_network(kind, init_seed)
            final_loss = train_network(model, inputs, target, epochs, learning_rate)[-1]
            if best is None or final_loss < best[0]:
                best = (final_loss, init_seed, model)
    _, init_seed, model = best
    return fitted_values_table(counties, model, inputs, epochs, init_seed)


# --- Figures ------------------------------------------------------------------------------


def plot_linear_model(counties: pd.DataFrame, table: pd.DataFrame) -> plt.Figure:
    """Figure 3.1: the linear model drawn as a one-layer network, and fitted against observed."""
    book_rows = table[table["model"] == LINEAR_VARIANTS[0].name].set_index("term")["estimate"]
    fig, (diagram, scatter) = plt.subplots(1, 2, figsize=(10, 4))
    labels = {"white_pct": "white %", "college_pct": "college %", "median_income_100usd": "income (100s USD)"}
    inputs = list(labels)
    for i, term in enumerate(inputs):
        y = 1 - i / (len(inputs) - 1)
        diagram.annotate("", xy=(0.8, 0.5), xytext=(0.2, y), arrowprops={"arrowstyle": "->", "color": "grey"})
        diagram.text(0.15, y, labels[term], ha="right", va="center")
        diagram.text(
            0.5,
            (y + 0.5) / 2 + 0.04,
            f"{book_rows[term]:.4f}",
            ha="center",
            fontsize=9,
            bbox={"facecolor": "white", "edgecolor": "none"},
        )
    diagram.text(0.85, 0.5, f"vote share\n(intercept {book_rows['intercept']:.3f})", ha="left", va="center")
    diagram.set_xlim(-0.5, 1.5)
    diagram.set_ylim(-0.1, 1.1)
    diagram.axis("off")
    diagram.set_title("Linear model as a network")
    design = design_matrix(counties, LINEAR_VARIANTS[0])
    fitted = design @ book_rows[["intercept", *inputs]].to_numpy()
    observed = counties[TARGET].to_numpy(dtype=float)
    scatter.scatter(observed, fitted)
    for name, x, y in zip(counties["county"], observed, fitted):
        scatter.annotate(name, (x, y), textcoords="offset points", xytext=(4, 2), fontsize=8)
    low, high = min(observed.min(), fitted.min()) - 0.02, max(observed.max(), fitted.max()) + 0.02
    scatter.plot([low, high], [low, high], color="grey", linestyle="--", linewidth=1)
    scatter.set_xlabel("Clinton vote share (observed)")
    scatter.set_ylabel("fitted by the linear model")
    scatter.set_title("Fitted against observed")
    fig.tight_layout()
    return fig


def plot_activations() -> plt.Figure:
    """Figure 3.3: ReLU, sigmoid and tanh on inputs from -5 to 5."""
    x = torch.linspace(-5, 5, 201, dtype=torch.float64)
    fig, axes = plt.subplots(1, 3, figsize=(10, 3), sharex=True)
    for ax, (name, fn) in zip(axes, [("ReLU", torch.relu), ("sigmoid", torch.sigmoid), ("tanh", torch.tanh)]):
        ax.plot(x.numpy(), fn(x).numpy())
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.axvline(0, color="grey", linewidth=0.5)
        ax.set_title(name)
        ax.set_xlabel("input")
    axes[0].set_ylabel("output")
    fig.tight_layout()
    return fig


# --- The whole Section 3 stage ------------------------------------------------------------


@dataclass(frozen=True)
class ToyOutputs:
    """Where the Section 3 stage writes (figure paths are stems: .png and .pdf are added)."""

    table_3_1_csv: str | os.PathLike
    table_3_1_md: str | os.PathLike
    linear_csv: str | os.PathLike
    linear_md: str | os.PathLike
    network_csv: str | os.PathLike
    conv_csv: str | os.PathLike
    figure_3_1: str | os.PathLike
    figure_3_3: str | os.PathLike


def linear_model_markdown(table: pd.DataFrame, note: str) -> str:
    """The linear-model table with its note on the gap to the book."""
    return "# Figure 3.1: linear model of Clinton's vote share\n\n" + table.to_markdown(index=False) + f"\n\n{note}\n"


def run_toy_networks(
    reference_path: str | os.PathLike,
    outputs: ToyOutputs,
    seed: int,
    epochs: int,
    learning_rate: float,
    restarts: int = 1,
    dpi: int = 150,
    style: str = "default",
) -> None:
    """Write Table 3.1, the Figure 3.1 model, both toy networks' fits and Figures 3.1 and 3.3."""
    reference = load_book_reference(reference_path)
    counties = county_table(reference)
    figure_3_1 = reference.get("figure_3_1") or {}
    if "white_pct_coefficient" not in figure_3_1:
        raise ValueError(f"{reference_path}: figure_3_1.white_pct_coefficient (the book's value) is missing")
    book_white = float(figure_3_1["white_pct_coefficient"])
    decimals = int(figure_3_1.get("decimals", 4))

    write_csv(counties, outputs.table_3_1_csv)
    write_text(
        "# Table 3.1: seven California counties\n\n" + counties.to_markdown(index=False) + "\n", outputs.table_3_1_md
    )

    linear = linear_model_table(counties, book_white)
    note = white_coefficient_note(linear, white_coefficient_rounding_bound(counties), decimals)
    write_csv(linear, outputs.linear_csv)
    write_text(linear_model_markdown(linear, note), outputs.linear_md)

    write_csv(fit_network(DenseNetwork, counties, seed, epochs, learning_rate, restarts), outputs.network_csv)
    write_csv(fit_network(ConvNetwork, counties, seed, epochs, learning_rate, restarts), outputs.conv_csv)

    with plt.style.context(style):
        for stem, draw in (
            (outputs.figure_3_1, lambda: plot_linear_model(counties, linear)),
            (outputs.figure_3_3, plot_activations),
        ):
            fig = draw()
            save_figure(fig, Path(stem), dpi=dpi)
