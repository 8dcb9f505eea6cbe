"""HTML to Markdown in the site's shape, with html2text.

html2text does the conversion; this module fixes what it gets wrong for the
site: list items at column 0, one blank line between blocks, no trailing
spaces, and code blocks and literal Markdown (formulas), which it cannot
express, swapped for placeholders around the conversion.
"""

from __future__ import annotations

import re

import html2text
from bs4 import BeautifulSoup, NavigableString, Tag

from pipelines import escape
from pipelines.clean import serialize

_PLACEHOLDER = "MDRAWBLOCK{}X"
_PLACEHOLDER_RE = re.compile(r"MDRAWBLOCK(\d+)X")
_LEADING_NBSP = re.compile(r"^[ \xa0]*\xa0[ \xa0]*", re.MULTILINE)
_LIST_ITEM = re.compile(r"^( +)(?=(?:[*+-]|\d+\.) )", re.MULTILINE)


def _converter() -> html2text.HTML2Text:
    h = html2text.HTML2Text(bodywidth=0)
    h.unicode_snob = True  # keep "·", "—", "“" as they are
    h.ul_item_mark = "*"
    h.emphasis_mark = "*"
    h.strong_mark = "**"
    h.inline_links = True
    h.wrap_links = False
    h.wrap_list_items = False
    h.wrap_tables = False
    h.pad_tables = False
    h.default_image_alt = ""
    h.single_line_break = False
    return h


def _fence(code: str, lang: str = "") -> str:
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{code.rstrip(chr(10))}\n{ticks}"


def _code_language(pre: Tag) -> str:
    for tag in (pre, pre.find("code")):
        if not isinstance(tag, Tag):
            continue
        if tag.get("data-lang"):
            return str(tag["data-lang"]).strip().split()[0]
        for cls in tag.get("class") or []:
            if cls.startswith(("language-", "lang-")):
                return cls.split("-", 1)[1]
    return ""


def _extract_raw(soup: BeautifulSoup) -> list[str]:
    """Swap code blocks and literal Markdown for placeholders html2text leaves alone.

    ``<pre>`` becomes a fenced block. An element with a ``data-md`` attribute
    (set by a source cleaner, e.g. for a LaTeX formula) stands for that literal
    Markdown: on its own paragraph when it is a ``div``, inline otherwise.
    """
    raw: list[str] = []

    def swap(node: Tag, markdown: str, block: bool) -> None:
        token = NavigableString(_PLACEHOLDER.format(len(raw)))
        raw.append(markdown)
        if block:
            wrapper = soup.new_tag("p")
            wrapper.append(token)
            node.replace_with(wrapper)
        else:
            node.replace_with(token)

    for node in soup.find_all(lambda tag: tag.name == "pre" or tag.has_attr("data-md")):
        if node.parent is None:  # inside an element already swapped
            continue
        if node.has_attr("data-md"):
            swap(node, str(node["data-md"]), block=node.name == "div")
        else:
            swap(node, _fence(node.get_text(), _code_language(node)), block=True)
    return raw


def tidy(markdown: str) -> str:
    """Normalise html2text output to the site's shape."""
    lines = [line.rstrip() for line in markdown.split("\n")]
    text = "\n".join(lines)
    # A paragraph opening with &nbsp; keeps one plain space, as the site's files do;
    # more would turn it into an indented code block.
    text = _LEADING_NBSP.sub(" ", text)
    # html2text indents top-level list items by two spaces; the site has them at column 0.
    text = _LIST_ITEM.sub(lambda m: m.group(1)[2:], text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n")


def html_to_markdown(soup: BeautifulSoup) -> str:
    """Convert a cleaned article body to Markdown (without a trailing newline)."""
    raw = _extract_raw(soup)
    escape.protect(soup)
    markdown = escape.restore(tidy(_converter().handle(serialize(soup))))
    return _PLACEHOLDER_RE.sub(lambda m: raw[int(m.group(1))], markdown)
