"""HTML tables as GFM pipe tables (Hugo's goldmark renders them by default).

html2text's tables break on the cases real articles have: a ``|`` in a cell,
a cell of several paragraphs, a ``colspan`` header (which it turns into a setext
heading). Here each cell is converted on its own, flattened to one line with its
pipes escaped, and the rows are padded to a common width. A table of a single
column is page layout, not data: its cells are left to flow as ordinary blocks.
"""

from __future__ import annotations

from collections.abc import Callable

from bs4 import BeautifulSoup, Tag


def _rows(table: Tag) -> list[list[Tag]]:
    """The table's own rows (not those of tables nested in its cells), as lists of cells."""
    rows = [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]
    return [[cell for cell in tr.find_all(["td", "th"], recursive=False)] for tr in rows]


def _span(cell: Tag) -> int:
    try:
        return max(1, min(int(str(cell.get("colspan", 1))), 50))
    except ValueError:
        return 1


def _unbreak(line: str) -> str:
    """A line without its hard-break backslash (an odd run of trailing backslashes)."""
    line = line.strip()
    trailing = len(line) - len(line.rstrip("\\"))
    return line[:-1].rstrip() if trailing % 2 else line


def _cell(cell: Tag, convert: Callable[[BeautifulSoup], str]) -> str:
    """The cell's Markdown on one line (its blocks and lines joined by spaces), pipes escaped."""
    markdown = convert(BeautifulSoup(cell.decode_contents(), "lxml"))
    line = " ".join(_unbreak(part) for part in markdown.splitlines() if part.strip())
    return line.replace("|", "\\|")


def to_markdown(table: Tag, convert: Callable[[BeautifulSoup], str]) -> str | None:
    """The pipe table for ``table``, or None when it is a layout table of one column.

    ``convert`` turns a cell's HTML into Markdown (the converter itself).
    """
    rows = [row for row in _rows(table) if row]
    width = max((sum(_span(cell) for cell in row) for row in rows), default=0)
    if width < 2:
        return None
    lines = []
    for row in rows:
        cells: list[str] = []
        for cell in row:
            cells += [_cell(cell, convert)] + [""] * (_span(cell) - 1)
        cells += [""] * (width - len(cells))
        lines.append("| " + " | ".join(cells) + " |")
    lines.insert(1, "|" + " --- |" * width)
    return "\n".join(lines)


def unwrap_layout(table: Tag, soup: BeautifulSoup) -> None:
    """Let a layout table's cells flow as blocks, in order."""
    for cell in table.find_all(["td", "th"]):
        if cell.find_parent("table") is table:
            cell.name = "div"
    for tag in table.find_all(["tr", "tbody", "thead", "tfoot", "caption", "colgroup", "col"]):
        if tag.find_parent("table") is table:
            tag.unwrap() if tag.name not in ("colgroup", "col") else tag.decompose()
    table.name = "div"
