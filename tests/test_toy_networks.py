"""Section 3 toy networks: the book's data, the linear model's gap, deterministic networks."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from images_as_data.replication.book_reference import load_book_reference
from images_as_data.replication.toy_networks import (
    LINEAR_VARIANTS,
    ConvNetwork,
    DenseNetwork,
    ToyOutputs,
    county_table,
    fit_network,
    linear_model_table,
    network_inputs,
    run_toy_networks,
    white_coefficient_note,
    white_coefficient_rounding_bound,
)

from .conftest import REPO

REFERENCE_PATH = REPO / "config" / "book_reference.yaml"
BOOK_WHITE = -0.0066


@pytest.fixture(scope="module")
def counties() -> pd.DataFrame:
    return county_table(load_book_reference(REFERENCE_PATH))


def toy_outputs(root: Path) -> ToyOutputs:
    tables, figures = root / "tables", root / "figures"
    return ToyOutputs(
        table_3_1_csv=tables / "table_3_1.csv",
        table_3_1_md=tables / "table_3_1.md",
        linear_csv=tables / "figure_3_1_linear_model.csv",
        linear_md=tables / "figure_3_1_linear_model.md",
        network_csv=tables / "figure_3_2_network.csv",
        conv_csv=tables / "figure_3_4_conv_network.csv",
        figure_3_1=figures / "figure_3_1",
        figure_3_3=figures / "figure_3_3",
    )


def test_table_3_1_is_the_books(counties: pd.DataFrame):
    assert list(counties["county"]) == ["Lake", "Shasta", "Mendocino", "Sonoma", "Sutter", "Amador", "Napa"]
    napa = counties.set_index("county").loc["Napa"]
    assert (napa["white_pct"], napa["median_income_100usd"], napa["vote_share"]) == (84.80, 347.95, 0.60)


def test_ols_white_coefficient_is_near_the_books_and_the_gap_is_explained(counties: pd.DataFrame):
    table = linear_model_table(counties, BOOK_WHITE)
    white = table[(table["term"] == "white_pct")].set_index("model")
    ours = white.loc[LINEAR_VARIANTS[0].name, "estimate"]
    assert ours == pytest.approx(-0.006847, abs=1e-6)
    assert abs(ours - BOOK_WHITE) < 0.0005
    # the book's own specification is the closest of those tried
    assert white["difference"].abs().idxmin() == LINEAR_VARIANTS[0].name
    bound = white_coefficient_rounding_bound(counties)
    assert bound > abs(ours - BOOK_WHITE)
    note = white_coefficient_note(table, bound, 4)
    assert "-0.0068" in note and "-0.0066" in note and "within what the printed data allow" in note
    assert table.loc[table["book_specification"], "model"].unique().tolist() == [LINEAR_VARIANTS[0].name]


def test_rounding_bound_is_a_real_bound(counties: pd.DataFrame):
    """Moving each vote share within its rounding interval never moves the coefficient further."""
    bound = white_coefficient_rounding_bound(counties)
    rng = np.random.default_rng(0)
    base = linear_model_table(counties, BOOK_WHITE)
    base_white = base.query("book_specification and term == 'white_pct'")["estimate"].iloc[0]
    for _ in range(20):
        jittered = counties.assign(vote_share=counties["vote_share"] + rng.uniform(-0.005, 0.005, len(counties)))
        moved = linear_model_table(jittered, BOOK_WHITE).query("book_specification and term == 'white_pct'")
        assert abs(moved["estimate"].iloc[0] - base_white) <= bound + 1e-6


def test_network_inputs_are_three_standardised_predictors_and_a_constant(counties: pd.DataFrame):
    inputs = network_inputs(counties).numpy()
    assert inputs.shape == (7, 4)
    np.testing.assert_allclose(inputs[:, :3].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(inputs[:, 3], 1)


@pytest.mark.parametrize("kind", [DenseNetwork, ConvNetwork])
def test_networks_learn_and_are_deterministic(counties: pd.DataFrame, kind):
    first = fit_network(kind, counties, seed=2020, epochs=300, learning_rate=0.05, restarts=2)
    again = fit_network(kind, counties, seed=2020, epochs=300, learning_rate=0.05, restarts=2)
    pd.testing.assert_frame_equal(first, again)
    assert first["fitted"].between(0, 1).all()
    variance = counties["vote_share"].var(ddof=0)
    assert first["training_loss"].iloc[0] < variance  # better than predicting the mean
    assert first["init_seed"].iloc[0] in (2020, 2021)


def test_stage_outputs_are_byte_identical_across_reruns(tmp_path: Path):
    for run in ("a", "b"):
        run_toy_networks(
            REFERENCE_PATH, toy_outputs(tmp_path / run), seed=7, epochs=100, learning_rate=0.05, restarts=2, dpi=50
        )
    csvs = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.csv"))
    assert len(csvs) == 4
    for relative in csvs:
        assert filecmp.cmp(tmp_path / "a" / relative, tmp_path / "b" / relative, shallow=False), relative
    for stem in ("figure_3_1", "figure_3_3"):
        for ext in ("png", "pdf"):
            assert (tmp_path / "a" / "figures" / f"{stem}.{ext}").stat().st_size > 0
    assert "Other specifications give" in (tmp_path / "a" / "tables" / "figure_3_1_linear_model.md").read_text()


def test_missing_county_data_names_the_reference_key(tmp_path: Path):
    with pytest.raises(ValueError, match="table_3_1"):
        county_table({"figure_3_1": {"white_pct_coefficient": -0.0066}})


def test_rules_run_under_snakemake(tmp_path: Path):
    """The toy_networks and table_4_1 rules run end to end (scripts, logs, outputs)."""
    snakefile = tmp_path / "Snakefile"
    snakefile.write_text(
        "from snakemake.utils import validate\n"
        f"configfile: {str(REPO / 'config' / 'config.yaml')!r}\n"
        f"validate(config, {str(REPO / 'config' / 'schema.yaml')!r}, set_default=True)\n"
        f"include: {str(REPO / 'rules' / 'common.smk')!r}\n"
        f"include: {str(REPO / 'rules' / 'replication.smk')!r}\n"
    )
    quick = tmp_path / "quick.yaml"
    quick.write_text(f"replication:\n  reference: {REFERENCE_PATH}\n  toy_epochs: 50\n  toy_restarts: 1\n")
    targets = ["results/tables/figure_3_4_conv_network.csv", "results/tables/table_4_1.csv"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            *targets,
            "-s",
            str(snakefile),
            "-d",
            str(tmp_path),
            "--cores",
            "1",
            "--workflow-profile",
            "none",
            "--quiet",
            "--configfile",
            str(quick),
        ],
        capture_output=True,
        text=True,
        timeout=170,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for target in targets + ["results/figures/figure_3_3.pdf", "results/logs/replication/toy_networks.log"]:
        assert (tmp_path / target).is_file(), target
