"""Logging for scripts run by Snakemake rules: everything goes to the rule's `log:` file."""

from __future__ import annotations

import logging
import sys


def setup_rule_logging(snakemake) -> logging.Logger:
    """Send logging and uncaught errors of a `script:` rule to its log file (and stderr)."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if snakemake.log:
        handlers.append(logging.FileHandler(str(snakemake.log[0]), mode="w", encoding="utf-8"))
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    logger = logging.getLogger(snakemake.rule)

    def log_uncaught(exc_type, exc, tb):
        logger.error("%s: %s", exc_type.__name__, exc, exc_info=(exc_type, exc, tb))

    sys.excepthook = log_uncaught
    return logger
