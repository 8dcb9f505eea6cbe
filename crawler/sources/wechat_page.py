"""One parse of a WeChat page with lxml: the elements the source reads, and ``#js_content``'s HTML
as BeautifulSoup would have written it.

A saved WeChat page is 3 MB, 97% of it inline ``<script>``. A full BeautifulSoup parse of it
(Python calls for every node) cost ~150 ms a page; libxml2 building the tree by itself (the
very parser BeautifulSoup's ``"lxml"`` builder drives, so the same tree) costs a few. The page
is parsed once here; the source reads its elements, texts and scripts from this tree, and the
cleaning stage (``wechat_clean``) gets the small ``#js_content`` subtree written exactly as
``str(tag)`` of the BeautifulSoup tree was (``pipelines.souplike``: BeautifulSoup's readings
of strings and attributes, and its writing). Where libxml2's own tree differs from what it told
BeautifulSoup: a bare boolean attribute (``souplike._BOOLEAN``), and a ``<!DOCTYPE>`` inside the
content, which BeautifulSoup kept as a declaration and the tree drops (the render drops it as
well: same Markdown).

This module needs no Scrapy: it runs in the parse workers (``pipelines.workers``).
"""

from __future__ import annotations

import re

from lxml import etree

from pipelines import souplike

_SPACES = re.compile(r"\s+")


#: libxml2 reports the first 100 errors of a parse (``XML_MAX_ERRORS``) and no more: past them, an
#: encoding error could go unreported.
_REPORTED_ERRORS = 100


def _parser() -> etree.HTMLParser:
    return etree.HTMLParser(encoding="utf-8", recover=True, no_network=True, huge_tree=True)


def parse(html: str) -> etree._Element:
    """The page's tree, as BeautifulSoup's ``"lxml"`` builder would build it (libxml2's HTML
    parser, recovering, any depth), its body's strings read as BeautifulSoup keeps them."""
    root = tree(html)
    normalize(root)
    return root


def tree(html: str) -> etree._Element:
    """libxml2's tree of the page, before ``normalize``. Given UTF-8 bytes: libxml2 reads a Python
    ``str`` several times slower."""
    parser = _parser()
    return _document(etree.fromstring(html.encode("utf-8", "replace"), parser), parser)


def tree_utf8(data: bytes) -> etree._Element | None:
    """``tree`` of the text ``data`` decodes to (UTF-8), read from ``data`` itself (decoding a 3 MB
    page and encoding it again cost ~13 ms); None when libxml2 did not read ``data`` as valid UTF-8
    (or may not have said so): invalid bytes are then read as the text has them, replaced."""
    parser = _parser()
    root = etree.fromstring(data, parser)
    errors = parser.error_log
    if len(errors) >= _REPORTED_ERRORS or any(error.type == etree.ErrorTypes.ERR_INVALID_ENCODING for error in errors):
        return None
    return _document(root, parser)


def _document(root: etree._Element | None, parser: etree.HTMLParser) -> etree._Element:
    return root if root is not None else etree.fromstring(b"<html></html>", parser)  # nothing libxml2 could read


def normalize(root: etree._Element) -> list[bytes]:
    """The body's strings read as BeautifulSoup keeps them (``souplike.normalize``), and the UTF-8
    of the page's scripts as that leaves them, in document order (``scripts``, encoded, after it):
    a page's 3 MB of script costs ~2 ms every time lxml makes it a str, ~0.4 ms as UTF-8 bytes
    (``wechat.JsVars`` reads those). (libxml2's HTML root is always ``<html>``, never a script.)"""
    texts: list[bytes] = []
    body = root.find("body")
    for part in root:
        if part is body:
            texts += _normalize_body(body)
        else:
            texts += [data for script in part.iter("script") if (data := script_utf8(script))]
    return texts


def script_utf8(script: etree._Element) -> bytes:
    """A script's text as UTF-8 (a script holds text only: libxml2 reads its content as raw text)."""
    return etree.tostring(script, method="text", encoding="utf-8", with_tail=False)


#: What ``souplike.normalize`` leaves as it is: strings inside these, and strings holding more than
#: these spaces (tests/test_wechat_page.py compares the two on every recorded page).
_PRESERVE_WHITESPACE = ("pre", "textarea")
_ASCII_SPACES = "\x20\x0a\x09\x0c\x0d"


def _collapse(text: str | None) -> str | None:
    """A whitespace-only string as BeautifulSoup keeps it: one newline or one space (None: no string)."""
    if text is None or text.strip(_ASCII_SPACES):
        return text
    return "\n" if "\n" in text else " "


def _normalize_body(body: etree._Element) -> list[bytes]:
    """``souplike.normalize(body)``, returning the UTF-8 of the scripts in it as it leaves them
    (a script's text is read as bytes: only a whitespace-only one changes)."""
    texts: list[bytes] = []
    preserved = {node for block in body.iter(*_PRESERVE_WHITESPACE) for node in block.iter()}
    for node in body.iter():
        if node is not body and node.getparent() not in preserved:
            if (tail := _collapse(node.tail)) != node.tail:
                node.tail = tail
        if node.tag == "script":
            data = script_utf8(node)
            if data and node not in preserved and not data.strip(_ASCII_SPACES.encode()):
                node.text = "\n" if b"\n" in data else " "
                data = node.text.encode()
            if data:
                texts.append(data)
            continue
        text = node.text
        if node not in preserved:
            collapsed = _collapse(text if isinstance(node.tag, str) else text or "")
            if collapsed != text:
                node.text = collapsed
    return texts


_BY_ID = etree.XPath("//*[@id=$ident][1]")
_BY_CLASS = etree.XPath("//*[contains(@class, $name)]")
_META = {attribute: etree.XPath(f"//meta[@{attribute}=$name][1]") for attribute in ("property", "name")}
_BY_TAG: dict[str, etree.XPath] = {}


def by_id(root: etree._Element, ident: str) -> etree._Element | None:
    """The first element (document order) whose ``id`` is ``ident``."""
    found = _BY_ID(root, ident=ident)
    return found[0] if found else None


def by_class(root: etree._Element, name: str) -> etree._Element | None:
    """The first element whose classes (split at whitespace, as BeautifulSoup does) include ``name``."""
    for element in _BY_CLASS(root, name=name):
        if name in element.get("class", "").split():
            return element
    return None


def by_tag(root: etree._Element, tag: str) -> etree._Element | None:
    if tag not in _BY_TAG:
        _BY_TAG[tag] = etree.XPath(f"//{tag}[1]")
    found = _BY_TAG[tag](root)
    return found[0] if found else None


def meta(root: etree._Element, name: str) -> str:
    """``content`` of the first ``<meta property=name>``, else of the first ``<meta name=name>``."""
    for attribute in ("property", "name"):
        found = _META[attribute](root, name=name)
        if found:
            return found[0].get("content") or ""
    return ""


def scripts(root: etree._Element) -> list[str]:
    """The texts of the page's scripts, in document order."""
    return [script.text for script in root.iter("script") if script.text]


def text(element: etree._Element) -> str:
    """``get_text()`` with whitespace runs made one space, trimmed."""
    return _SPACES.sub(" ", souplike.get_text(element)).strip()


def has_text(element: etree._Element) -> bool:
    """Whether ``get_text(strip=True)`` would be non-empty."""
    return bool(souplike.get_text(element).strip())


def has_descendant(element: etree._Element, names: tuple[str, ...]) -> bool:
    return next(element.iterdescendants(*names), None) is not None


def outer_html(element: etree._Element) -> str:
    """``str(tag)`` of the element in BeautifulSoup's tree (``minimal`` formatter)."""
    return souplike.outer_html(element)
