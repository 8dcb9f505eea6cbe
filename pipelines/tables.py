"""HTML tables as GFM pipe tables (Hugo's goldmark renders them by default).

html2text's tables break on the cases real articles have: a ``|`` in a cell,
a cell of several paragraphs, a ``colspan`` header (which it turns into a setext
heading). Here each cell is converted on its own, flattened to one line with its
pipes escaped, and the rows are padded to a common width. A table of a single
column is page layout, not data: its cells are left to flow as ordinary blocks.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from pipelines import htmltree, souplike

Node = etree._Element


def _own(node: Node, table: Node) -> bool:
    """Whether ``node`` belongs to ``table`` itself (not to a table nested in it)."""
    return next(node.iterancestors("table"), None) is table


def _rows(table: Node) -> list[list[Node]]:
    """The table's own rows (not those of tables nested in its cells), as lists of cells."""
    rows = [tr for tr in table.iter("tr") if _own(tr, table)]
    return [[cell for cell in tr if cell.tag in ("td", "th")] for tr in rows]


def _span(cell: Node) -> int:
    try:
        return max(1, min(int(str(cell.get("colspan", 1))), 50))
    except ValueError:
        return 1


def _unbreak(line: str) -> str:
    """A line without its hard-break backslash (an odd run of trailing backslashes)."""
    line = line.strip()
    trailing = len(line) - len(line.rstrip("\\"))
    return line[:-1].rstrip() if trailing % 2 else line


def _cell(cell: Node, convert: Callable[[Node], str]) -> str:
    """The cell's Markdown on one line (its blocks and lines joined by spaces), pipes escaped."""
    markdown = convert(souplike.document(souplike.inner_html(cell)))
    line = " ".join(_unbreak(part) for part in markdown.splitlines() if part.strip())
    return line.replace("|", "\\|")


def to_markdown(table: Node, convert: Callable[[Node], str]) -> str | None:
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


def unwrap_layout(table: Node) -> None:
    """Let a layout table's cells flow as blocks, in order."""
    for cell in list(table.iter("td", "th")):
        if _own(cell, table):
            cell.tag = "div"
    for tag in list(table.iter("tr", "tbody", "thead", "tfoot", "caption", "colgroup", "col")):
        if _own(tag, table):
            htmltree.unwrap(tag) if tag.tag not in ("colgroup", "col") else htmltree.remove(tag)
    table.tag = "div"
