"""What a re-render (``scrapy rerender``) decides per file, apart from the write stage it shares
with every crawl: whether the bytes change, and for a dry run the unified diff of what would."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

#: the write stage's mode in a dry run: nothing written, the changes announced
DRY_RUN = "dry-run"
#: the write mode of a re-render
WRITE = "write"
#: written status of a file a re-render rewrote (the report lists it apart from upstream updates)
REWRITTEN = "rerendered"
#: sent in a dry run with ``change`` (a ``Change``) for each file that would be rewritten
would_change = object()


@dataclass(frozen=True)
class Change:
    """A file a re-render would rewrite."""

    path: str  #: relative to the output root
    added: int  #: lines
    removed: int
    diff: str  #: unified diff, old file → new document

    @property
    def stat(self) -> str:
        return f"+{self.added} -{self.removed} line(s)" if self.diff else "new file"


def current(path: Path) -> str | None:
    """The file's text as it is on disk (None when there is none)."""
    try:
        return path.read_bytes().decode("utf-8", errors="surrogateescape")
    except FileNotFoundError:
        return None


def diff(path: str, old: str | None, new: str) -> Change:
    """The unified diff from ``old`` (the file, None if missing) to ``new``, with its line counts."""
    if old is None:
        return Change(path, len(new.splitlines()), 0, "")
    lines = list(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                      f"a/{path}", f"b/{path}", n=1))
    added = sum(1 for line in lines if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in lines if line.startswith("-") and not line.startswith("---"))
    return Change(path, added, removed, "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines))
