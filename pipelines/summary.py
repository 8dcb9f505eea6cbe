"""The front-matter summary: the body's opening text (else the page's description or title), cut short."""

from __future__ import annotations

import re

from lxml import etree

from pipelines import htmltree

#: Elements that start a new text block.
BLOCK_TAGS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol blockquote pre table tr td th dl dt dd figure figcaption br hr".split()
)
SEPARATOR = "  "
ELLIPSIS = "..."
_END = etree.Element("end")  # marks where an element's content ends, in text_blocks' walk


def text_blocks(root: etree._Element, enough: int | None = None) -> list[str]:
    """The visible text of each block in document order, whitespace collapsed, images ignored
    (and the strings BeautifulSoup types apart: comments, ``<rt>``/``<rp>`` text); only the first
    blocks once joined by ``SEPARATOR`` they are longer than ``enough``, when given."""
    blocks: list[str] = []
    current: list[str] = []
    joined = -len(SEPARATOR)  # the length of blocks joined by SEPARATOR

    def flush() -> None:
        nonlocal joined
        if current:
            text = " ".join("".join(current).split())  # what re.sub(r"\s+", " ", …).strip() gives
            if text:
                blocks.append(text)
                joined += len(SEPARATOR) + len(text)
            current.clear()

    stack: list[etree._Element | str] = [root]  # a string: text; an element: its start (its end: None after it)
    ends: list[etree._Element] = []
    while stack and (enough is None or joined <= enough):
        node = stack.pop()
        if isinstance(node, str):
            current.append(node)
            continue
        if node is _END:
            element = ends.pop()
            if element.tag in BLOCK_TAGS:
                flush()
            continue
        if not htmltree.is_tag(node):
            continue
        if node.tag in BLOCK_TAGS:
            flush()
        ends.append(node)
        stack.append(_END)
        for child in reversed(node):
            if child.tail:
                stack.append(child.tail)
            stack.append(child)
        if node.text:
            stack.append(node.text)
    flush()
    return blocks


def summarize(root: etree._Element, length: int, *fallbacks: str) -> str:
    """Text blocks joined by two spaces, cut to ``length`` characters plus ``...``.

    A body without text (an image share, a post whose text is all in pictures) gives the
    first non-empty ``fallbacks`` instead (the page's own description, then its title), its
    lines taken as blocks: an empty summary makes Hugo show the body's opening instead,
    which for such a post is its attribution, disclaimer and origin link.
    """
    text = SEPARATOR.join(text_blocks(root, enough=length))  # the rest could not change the cut
    for fallback in fallbacks:
        if text:
            break
        text = SEPARATOR.join(block for line in fallback.splitlines() if (block := re.sub(r"\s+", " ", line).strip()))
    return text if len(text) <= length else text[:length].rstrip() + ELLIPSIS
