"""BeautifulSoup's tree operations (unwrap, decompose, replace_with, get_text, …) on lxml elements.

The render's stages work on the tree :func:`pipelines.souplike.document` builds: lxml elements whose
text lives in ``text`` and ``tail`` (where BeautifulSoup has string nodes), read exactly as
BeautifulSoup reads the markup. Two kinds of node stand for strings lxml has no node for:

* ``TYPED``: a string BeautifulSoup types apart (inside ``<rt>``/``<rp>``: not in ``get_text``, nor
  in the summary), its text the string's;
* ``RAW``: a string written as it is (a doctype or declaration BeautifulSoup kept), its text the output.

and ``NAMED`` an element whose name lxml refuses to be given (see ``souplike.document``).

Both are written without tags. Adjacent strings, which BeautifulSoup keeps apart after its
changes, are one ``text`` here: every stage reads them as one (joined, stripped, translated
character by character), so the HTML handed to html2text is the same.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

TYPED = "souplike-typed"
RAW = "souplike-raw"
#: An element copied from BeautifulSoup's tree under a name lxml refuses, that name in its ``NAME`` attribute.
NAMED = "souplike-named"
NAME = "souplike-name"
Node = etree._Element
Item = Node | str


def is_tag(node: Node) -> bool:
    """An element of the document (not a comment, processing instruction, or string node)."""
    tag = node.tag
    return isinstance(tag, str) and tag != TYPED and tag != RAW


def string_of(node: Node) -> str | None:
    """The string BeautifulSoup has for a comment, processing instruction or string node; None for an element."""
    tag = node.tag
    if tag is etree.PI:
        return f"{node.target} {node.text or ''}"
    if isinstance(tag, str) and tag != TYPED and tag != RAW:
        return None
    return node.text or ""


def empty(near: Node) -> Node:
    """An empty string node (BeautifulSoup keeps an emptied string, which parts the strings around it)."""
    return near.makeelement(RAW)


def contents(node: Node) -> list[Item]:
    """What ``node`` holds, in order: its strings and its children (``Tag.contents``)."""
    items: list[Item] = []
    if node.text:
        items.append(node.text)
    for child in node:
        items.append(child)
        if child.tail:
            items.append(child.tail)
    return items


def _append_text(parent: Node, last: Node | None, text: str) -> None:
    if last is None:
        parent.text = (parent.text or "") + text
    else:
        last.tail = (last.tail or "") + text


def _text_before(node: Node, text: str) -> None:
    """Add ``text`` just before ``node`` (after what is before it)."""
    if text:
        _append_text(node.getparent(), node.getprevious(), text)


def _place(parent: Node, index: int, before: Node | None, items: Iterable[Item]) -> Node | None:
    """Put ``items`` into ``parent`` from child ``index`` on, ``before`` being the child just before
    (None: they start at ``parent``'s text); the last child placed (or ``before``)."""
    last = before
    for item in items:
        if isinstance(item, str):
            if item:
                _append_text(parent, last, item)
        else:
            item.tail = None
            parent.insert(index, item)
            index += 1
            last = item
    return last


def replace(node: Node, items: Iterable[Item]) -> None:
    """Put ``items`` (strings and elements) where ``node`` is; the text after ``node`` stays after them."""
    parent = node.getparent()
    index = parent.index(node)
    before = node.getprevious()
    tail = node.tail
    node.tail = None
    parent.remove(node)
    last = _place(parent, index, before, items)
    if tail:
        _append_text(parent, last, tail)


def unwrap(node: Node) -> None:
    """Replace ``node`` by what it holds (``Tag.unwrap``)."""
    replace(node, contents(node))


def remove(node: Node) -> None:
    """Take ``node`` and what it holds out, the text after it staying (``decompose``/``extract``)."""
    tail = node.tail
    node.tail = None
    if tail:
        _text_before(node, tail)
    node.getparent().remove(node)


def insert_before(node: Node, new: Node) -> None:
    """``new`` (moved, without its tail) just before ``node``."""
    new.tail = None
    node.addprevious(new)


def insert_after(node: Node, new: Node) -> None:
    """``new`` (moved, without its tail) just after ``node``, the text after ``node`` now after ``new``."""
    new.tail = None
    parent = node.getparent()
    parent.insert(parent.index(node) + 1, new)
    new.tail, node.tail = node.tail, None


def set_contents(node: Node, items: Iterable[Item]) -> None:
    """``node`` holding exactly ``items`` (moved there, in order)."""
    items = list(items)
    for child in list(node):
        node.remove(child)
    node.text = None
    _place(node, 0, None, items)


def append_text(node: Node, text: str) -> None:
    """``text`` at the end of what ``node`` holds."""
    _append_text(node, node[-1] if len(node) else None, text)


def ancestor(node: Node, names: str | Iterable[str]) -> Node | None:
    """The nearest element above ``node`` named one of ``names`` (``find_parent``)."""
    names = (names,) if isinstance(names, str) else tuple(names)
    return next(node.iterancestors(*names), None)


def first(node: Node, names: Iterable[str]) -> Node | None:
    """The first element under ``node`` (not ``node`` itself) named one of ``names`` (``find``)."""
    names = tuple(names)
    return next((found for found in node.iter(*names) if found is not node), None)


def all_strings(root: Node) -> str:
    """Every string in the tree, joined (to look for a character at once): texts, comments, processing instructions."""
    return "".join([*root.itertext(), *(node.text or "" for node in root.iter(etree.Comment, etree.PI))])


def get_text(node: Node) -> str:
    """``Tag.get_text()`` of an element that is no string container: its plain strings (not comments,
    processing instructions, nor the strings ``<rt>``/``<rp>`` type apart)."""
    if next(node.iter(TYPED, RAW), None) is None:
        return "".join(node.itertext())  # lxml's leaves comments and processing instructions out too
    out: list[str] = []
    stack: list[Item] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        if item is not node and item.tail:
            stack.append(item.tail)
        if is_tag(item):
            stack.extend(reversed(item))
            if item.text:
                stack.append(item.text)
    return "".join(out)
