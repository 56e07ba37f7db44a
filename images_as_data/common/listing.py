"""Listing a folder tree by path, size and modification time: the cheap fingerprint that tells
the workflow whether images were added, removed, renamed or replaced anywhere under a folder.

One rule for symbolic links, used by the inventory (for ``data.images``) and by the task
folders alike:

- a link whose target lies inside the listed folder is used: a linked file is listed under
  the link's path with the size and time of its target; a linked folder is walked, its files
  listed under the link's path (a folder that loops back into one it is inside is listed as
  one entry of kind ``loop`` and not walked);
- a link whose target lies outside the folder is, with ``outside="exclude"`` (the
  inventory's rule), listed as one entry of kind ``outside`` and never read or walked; with
  ``outside="follow"`` (external and task folders) it is used like an inside link;
- a link to nothing is of kind ``broken``; fifos, sockets and devices of kind ``special``.

Hidden files are listed. Snakemake's marker file in a generated folder is not.
Reading a listing costs one ``stat`` per entry and no file content: about a second per
hundred thousand files (see bench/README.md).
"""

from __future__ import annotations

import csv
import io
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .atomic import write_if_changed
from .image_ids import printable_id

# Snakemake's bookkeeping file in a directory() output (the generated demo folder): not data.
SNAKEMAKE_MARKER = ".snakemake_timestamp"

FILE = "file"  # a regular file
LINK = "link"  # a link to a regular file inside the folder (or anywhere, with outside="follow")
OUTSIDE = "outside"  # a link pointing outside the folder (file or folder), not followed
LOOP = "loop"  # a linked folder that loops back into a folder it is inside
BROKEN = "broken"  # a link to nothing
SPECIAL = "special"  # fifo, socket, device
USABLE = (FILE, LINK)
LISTING_COLUMNS = ["path", "bytes", "mtime_ns", "kind", "target"]


@dataclass(frozen=True)
class Entry:
    """One listed file. ``path`` is relative to the listed folder, POSIX, as on disk (file
    names that are not valid UTF-8 keep their bytes as surrogate escapes)."""

    path: str
    kind: str
    bytes: int | None = None
    mtime_ns: int | None = None
    target: str = ""  # where a link points, as written in the link (so moving the project changes nothing)

    @property
    def usable(self) -> bool:
        return self.kind in USABLE


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def list_tree(root: str | os.PathLike, outside: str = "exclude") -> list[Entry]:
    """Every file under ``root`` (recursively), sorted by path; see the module doc for links."""
    if outside not in ("exclude", "follow"):
        raise ValueError(f"outside must be 'exclude' or 'follow', not {outside!r}")
    root_path = Path(root)
    if not root_path.is_dir():
        raise FileNotFoundError(f"{root_path} does not exist or is not a folder")
    real_root = os.path.realpath(root_path)
    entries: list[Entry] = []
    # (folder on disk, its path relative to root, real paths of the folders it is inside)
    stack: list[tuple[str, str, tuple[str, ...]]] = [(str(root_path), "", (real_root,))]
    while stack:
        folder, prefix, chain = stack.pop()
        with os.scandir(folder) as scan:
            for item in scan:
                relative = f"{prefix}{item.name}"
                if item.is_symlink():
                    entry, walk = _link_entry(item, relative, real_root, chain, outside)
                    if walk is not None:
                        stack.append((item.path, f"{relative}/", (*chain, walk)))
                    else:
                        entries.append(entry)
                elif item.is_dir(follow_symlinks=False):
                    stack.append((item.path, f"{relative}/", (*chain, os.path.realpath(item.path))))
                elif item.name == SNAKEMAKE_MARKER and prefix == "":
                    continue
                else:
                    info = item.stat(follow_symlinks=False)
                    kind = FILE if stat.S_ISREG(info.st_mode) else SPECIAL
                    entries.append(Entry(relative, kind, info.st_size, info.st_mtime_ns))
    entries.sort(key=lambda entry: entry.path)
    return entries


def _link_entry(item: os.DirEntry, relative: str, real_root: str, chain: tuple[str, ...], outside: str) -> tuple[Entry | None, str | None]:
    """The entry of a symbolic link, or (None, real folder) when it is a folder to walk."""
    target = os.path.realpath(item.path)
    written = os.readlink(item.path)
    link_info = item.stat(follow_symlinks=False)
    if outside == "exclude" and not _inside(target, real_root):
        # The link's own time changes when it is pointed elsewhere; the target is never read.
        return Entry(relative, OUTSIDE, link_info.st_size, link_info.st_mtime_ns, written), None
    try:
        info = os.stat(item.path)
    except OSError:
        return Entry(relative, BROKEN, link_info.st_size, link_info.st_mtime_ns, written), None
    if stat.S_ISDIR(info.st_mode):
        if any(_inside(folder, target) for folder in chain):
            return Entry(relative, LOOP, None, None, written), None
        return None, target
    kind = LINK if stat.S_ISREG(info.st_mode) else SPECIAL
    return Entry(relative, kind, info.st_size, info.st_mtime_ns, written), None


def listing_csv(entries: list[Entry]) -> bytes:
    """The listing as CSV bytes (columns LISTING_COLUMNS): the same tree always gives the same bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(LISTING_COLUMNS)
    writer.writerows(
        (printable_id(e.path), "" if e.bytes is None else e.bytes, "" if e.mtime_ns is None else e.mtime_ns, e.kind, printable_id(e.target))
        for e in entries
    )
    return buffer.getvalue().encode("utf-8")


def listing_csv_of_folders(folders: dict[str, str | os.PathLike], outside: str = "follow") -> bytes:
    """One listing of several folders, each entry's path prefixed by its folder's role
    (``positive/…``, ``path/…``); a missing folder is listed as such, so creating it counts
    as a change."""
    entries: list[Entry] = []
    for role, folder in sorted(folders.items()):
        if not Path(folder).is_dir():
            entries.append(Entry(role, "missing"))
            continue
        entries.extend(
            Entry(f"{role}/{e.path}", e.kind, e.bytes, e.mtime_ns, e.target) for e in list_tree(folder, outside)
        )
    return listing_csv(entries)


def write_listing(folders: dict[str, str | os.PathLike], out: str | os.PathLike, outside: str = "exclude") -> bool:
    """Write the listing of one folder (role "") or of several (by role) to ``out`` if it changed."""
    if list(folders) == [""]:
        return write_if_changed(listing_csv(list_tree(folders[""], outside)), out)
    return write_if_changed(listing_csv_of_folders(folders, outside), out)
