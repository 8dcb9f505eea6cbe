"""HTML to Markdown in the site's shape, with html2text.

html2text does the conversion; this module fixes what it gets wrong for the
site: list items at column 0, one blank line between blocks, no trailing
spaces, and code (blocks and spans) and literal Markdown (formulas), which it
cannot express, swapped for placeholders around the conversion.
"""

from __future__ import annotations

import re
import secrets

import html2text
from lxml import etree

from pipelines import emphasis, escape, htmltree, literal, shortcodes, tables
from pipelines.clean import serialize

Node = etree._Element

#: A placeholder names its conversion's nonce, so article text cannot forge one.
_PLACEHOLDER = "MDRAWBLOCK{nonce}N{index}X"
#: What a fence's info string may hold; anything after the first other character is dropped.
_LANGUAGE = re.compile(r"[A-Za-z0-9_+.#-]*")
#: A line's container prefix before a block: quote markers, list markers, indentation.
_CONTAINER_PREFIX = re.compile(r"(?:[ \t]*(?:>|[*+-](?=[ \t])|\d{1,9}[.)](?=[ \t])))*[ \t]*")
_LEADING_NBSP = re.compile(r"^[ \xa0]*\xa0[ \xa0]*", re.MULTILINE)
_LIST_ITEM = re.compile(r"^( +)(?=(?:[*+-]|\d+\.) )", re.MULTILINE)
#: How BeautifulSoup splits a multi-valued attribute (``class``).
_NONWHITESPACE = re.compile(r"\S+")


class _ProtectedText(html2text.HTML2Text):
    """html2text for the body ``html_to_markdown`` hands it: every Markdown-active character of its text
    is protected (``escape.protect``; code is swapped out), so html2text's own escaping of text (four
    regex passes over each string, a quarter of its time) never finds anything and is skipped."""

    def handle_data(self, data: str, entity_char: bool = False) -> None:
        super().handle_data(data, entity_char=True)  # ``entity_char``: only decides that escaping


def _converter(kind: type[html2text.HTML2Text] = html2text.HTML2Text) -> html2text.HTML2Text:
    h = kind(bodywidth=0)
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
    """A fenced block no line of ``code`` can close (its fence is longer than any backtick run
    inside), with a language of safe characters and Hugo's directives neutralized."""
    code = shortcodes.neutralize(code.replace("\r\n", "\n").replace("\r", "\n"))
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    ticks = "`" * max(3, longest + 1)
    lang = _LANGUAGE.match(lang).group()  # type: ignore[union-attr]  # matches the empty string at worst
    return f"{ticks}{lang}\n{code.rstrip(chr(10))}\n{ticks}"


def _code_language(pre: Node) -> str:
    for tag in (pre, htmltree.first(pre, ("code",))):
        if tag is None:
            continue
        if tag.get("data-lang"):
            return str(tag.get("data-lang")).strip().split()[0]
        for cls in _NONWHITESPACE.findall(tag.get("class") or ""):
            if cls.startswith(("language-", "lang-")):
                return cls.split("-", 1)[1]
    return ""


def _code_span(code: str) -> str:
    """Inline code as CommonMark reads it back: a fence longer than any backtick run inside,
    padded where the content starts or ends with a backtick or is space-wrapped."""
    code = shortcodes.neutralize(re.sub(r"\r\n?|\n", " ", code))
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", code)), default=0) + 1)
    wrapped = code.startswith(" ") and code.endswith(" ") and code.strip()
    pad = " " if code.startswith("`") or code.endswith("`") or wrapped else ""
    return f"{ticks}{pad}{code}{pad}{ticks}"


def _merge_adjacent_code(root: Node) -> None:
    """``<code>a</code><code>b</code>`` is one run of code; as two spans it would not parse."""
    for code in list(root.iter("code")):
        if code.getparent() is None or htmltree.ancestor(code, "pre") is not None:
            continue
        while not code.tail and (following := code.getnext()) is not None and following.tag == "code":
            htmltree.remove(following)
            htmltree.append_text(code, htmltree.get_text(following))


def _is_block_raw(tag: Node) -> bool:
    return tag.tag == "pre" or (tag.tag == "div" and literal.markdown_of(tag) is not None)


def _is_inline_raw(tag: Node) -> bool:
    return tag.tag == "code" or (tag.tag != "div" and htmltree.is_tag(tag) and literal.markdown_of(tag) is not None)


def _extract_raw(root: Node, raw: list[tuple[str, bool]], block: bool, nonce: str) -> None:
    """Swap code and literal Markdown for placeholders html2text leaves alone.

    ``<pre>`` becomes a fenced block, ``<table>`` a pipe table (``pipelines.tables``) and
    inline ``<code>`` a code span. An element
    signed with ``pipelines.literal`` (by a source cleaner, e.g. for a LaTeX formula)
    stands for that literal Markdown: on its own paragraph when it is a ``div``,
    inline otherwise. Appends (Markdown, is block) to ``raw`` per placeholder.
    """

    def swap(node: Node, markdown: str) -> None:
        token = _PLACEHOLDER.format(nonce=nonce, index=len(raw))
        raw.append((markdown, block))
        if block:
            wrapper = node.makeelement("p")
            wrapper.text = token
            htmltree.replace(node, [wrapper])
        else:
            htmltree.replace(node, [token])

    if block:
        for table in list(root.iter("table")):
            if table.getparent() is None or htmltree.ancestor(table, "table") is not None:
                continue  # nested tables are converted with their outer table's cells
            markdown = tables.to_markdown(table, html_to_markdown)
            if markdown is None:
                tables.unwrap_layout(table)
            else:
                swap(table, markdown)
    else:
        _merge_adjacent_code(root)
    for node in [node for node in root.iter(etree.Element) if (_is_block_raw if block else _is_inline_raw)(node)]:
        if node.getparent() is None or htmltree.ancestor(node, "pre") is not None:  # inside an element already swapped
            continue
        markdown = literal.markdown_of(node)
        if markdown is not None:
            swap(node, markdown)
        elif node.tag == "pre":
            swap(node, _fence(htmltree.get_text(node), _code_language(node)))
        elif htmltree.get_text(node):
            swap(node, _code_span(htmltree.get_text(node)))
        else:
            htmltree.remove(node)


def _put_back(markdown: str, raw: list[tuple[str, bool]], block: bool, nonce: str) -> str:
    """Replace the placeholders of one kind by their Markdown.

    A block's lines after the first carry the container prefix of its placeholder's line
    (quote markers; list markers as spaces), so a fence inside a quote or list item stays
    there instead of ending it and leaving its code to be read as Markdown. A block
    sharing its line with other text is put on lines of its own.
    """
    placeholder = re.compile(_PLACEHOLDER.format(nonce=nonce, index=r"(\d+)"))

    def one(match: re.Match[str]) -> str:
        text, is_block = raw[int(match.group(1))]
        if is_block != block:
            return match.group()
        if not block:
            return text
        line_start = markdown.rfind("\n", 0, match.start()) + 1
        line_end = len(markdown) if (end := markdown.find("\n", match.end())) < 0 else end
        lead, tail = markdown[line_start : match.start()], markdown[match.end() : line_end]
        prefix = lead if _CONTAINER_PREFIX.fullmatch(lead) else ""
        prefix = re.sub(r"[*+-]|\d{1,9}[.)]", lambda m: " " * len(m.group()), prefix)
        text = text.replace("\n", "\n" + prefix)
        before = "" if prefix or not lead.strip() else "\n"
        after = "\n" + prefix if tail.strip() else ""
        return before + text + after

    return placeholder.sub(one, markdown)


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


def html_to_markdown(root: Node) -> str:
    """Convert a cleaned article body (``pipelines.clean``'s tree) to Markdown (without a trailing newline)."""
    raw: list[tuple[str, bool]] = []
    nonce = secrets.token_hex(6)
    _extract_raw(root, raw, block=True, nonce=nonce)
    escape.protect(root)
    emphasis.mark(root)  # html2text's own emphasis does not render next to CJK punctuation
    _extract_raw(root, raw, block=False, nonce=nonce)  # after mark, which keeps emphasis off code's edges
    markdown = _converter(_ProtectedText).handle(serialize(root))
    # Inline code and formulas go back before emphasis is placed: their edges decide flanking.
    markdown = escape.restore(tidy(emphasis.render(_put_back(markdown, raw, block=False, nonce=nonce))))
    return _put_back(markdown, raw, block=True, nonce=nonce)
