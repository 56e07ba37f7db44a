"""Reading the workflow's own CSV outputs."""

import os

import pandas as pd


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a workflow CSV with every value as text (empty cells stay empty strings)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)
