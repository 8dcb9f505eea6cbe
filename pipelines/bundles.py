"""The files of an article's Hugo page bundle that this project wrote, and their clean-up.

Image files are named by ``pipelines.imagecheck`` (content hash + extension) and list-page copies
by ``pipelines.thumbnails`` (``-w<width>`` added); only names of those shapes are ever removed here,
so a file someone else put into a bundle stays.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

from pipelines.imagecheck import NAME_DIGITS, WEB_FORMATS

#: Names this project gives the files of a bundle.
OUR_FILE = re.compile(rf"^[0-9a-f]{{{NAME_DIGITS}}}(?:-w\d+)?\.(?:{'|'.join(sorted(WEB_FORMATS.values()))})$")


def stale_files(folder: Path, keep: Collection[str]) -> list[Path]:
    """Files of ours in ``folder`` not named in ``keep`` (images an article no longer shows)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and OUR_FILE.match(p.name) and p.name not in keep)


def remove_files(paths: Collection[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def remove_bundle(index: Path) -> list[Path]:
    """Remove a bundle's ``index.md`` and our files beside it, and the folder when nothing else is left;
    returns what was removed (files only)."""
    removed = [index, *stale_files(index.parent, ())]
    remove_files(removed)
    if index.parent.is_dir() and not any(index.parent.iterdir()):
        index.parent.rmdir()
    return removed
