"""Atomic output writing: a crash never leaves a half-written file that looks complete."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds.

    The temporary file keeps the target's suffix so that libraries choosing a format
    from the extension (matplotlib, PIL, pandas) behave as for the real file.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=suffix if suffix is not None else target.suffix, dir=target.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates owner-only files; outputs are meant to be shared like any other file.
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; it replaces ``path`` only if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o755)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def write_csv(frame, path: str | os.PathLike, **kwargs) -> None:
    """Write a pandas DataFrame as a tidy CSV (no index), atomically."""
    kwargs.setdefault("index", False)
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, **kwargs)


def write_text(text: str, path: str | os.PathLike) -> None:
    """Write text (UTF-8), atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def save_figure(fig, stem: str | os.PathLike, dpi: int = 150) -> list[Path]:
    """Save a matplotlib figure as ``<stem>.png`` and ``<stem>.pdf``, atomically, then close it
    (rules draw many figures in one process; open figures would pile up in memory)."""
    written = []
    try:
        for ext in (".png", ".pdf"):
            out = Path(str(stem) + ext)
            with atomic_path(out) as tmp:
                fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=ext[1:])
            written.append(out)
    finally:
        # A figure made through pyplot stays registered there until closed. Looked up, not
        # imported, so that this module (used by every rule) does not need matplotlib.
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            pyplot.close(fig)
    return written
