"""Atomic output writing: a crash never leaves a half-written file that looks complete.

Temporary files and folders have a fixed name beside their target (``.<name>.partial``), so
the rerun of a killed job replaces what the killed one left instead of piling up copies.
Each output has one writer (Snakemake runs one job per output), which is what makes a fixed
name safe; ``write_if_changed``, which may run in two processes at once, uses unique names.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Iterator

PARTIAL = ".partial"
# Folders named by tempfile.mkdtemp (".<name>." + 8 characters) by earlier versions of
# atomic_dir; a killed job could leave them behind.
_LEGACY_TEMP_DIR = r"\.{name}\.[a-z0-9_]{{8}}"


def partial_path(path: str | os.PathLike, suffix: str = "") -> Path:
    """The fixed temporary name of ``path``: ``.<name>.partial<suffix>`` in the same folder."""
    target = Path(path)
    return target.with_name(f".{target.name}{PARTIAL}{suffix}")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds.

    The temporary file keeps the target's suffix so that libraries choosing a format
    from the extension (matplotlib, PIL, pandas) behave as for the real file.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = partial_path(target, target.suffix if suffix is None else suffix)
    _remove(tmp_path)  # left by a killed job
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove what killed writers of ``path`` left beside it; return the removed paths."""
    target = Path(path)
    if not target.parent.is_dir():
        return []
    legacy = re.compile(_LEGACY_TEMP_DIR.format(name=re.escape(target.name)))
    stale = []
    with os.scandir(target.parent) as entries:
        for entry in entries:
            if entry.name == partial_path(target).name or (legacy.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False)):
                stale.append(Path(entry.path))
    for leftover in stale:
        _remove(leftover)
    return stale


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; it replaces ``path`` only if the block succeeds.

    Temporary folders of killed earlier attempts are removed first.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target)
    tmp = partial_path(target)
    tmp.mkdir()
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


def write_if_changed(data: bytes, path: str | os.PathLike) -> bool:
    """Write ``data`` to ``path`` atomically unless the file already holds exactly these bytes.

    Returns whether the file was (re)written. An unchanged file keeps its time stamp, which
    is what Snakemake compares. Safe to call from two processes at once (unique temporary name).
    """
    target = Path(path)
    try:
        if target.stat().st_size == len(data) and target.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".{os.getpid()}{PARTIAL}", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return True


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
