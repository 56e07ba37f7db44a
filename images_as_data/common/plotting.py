"""pyplot on the file-only Agg backend: rules draw figures to files on machines without a
display, and the backend must be chosen before pyplot is first imported, so every plotting
module imports ``plt`` from here."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be set first)

__all__ = ["plt"]
