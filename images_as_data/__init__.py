"""Images as Data for Social Science Research: the workflow's importable logic."""

__version__ = "0.1.0"
