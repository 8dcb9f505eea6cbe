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


def parse(html: str) -> etree._Element:
    """The page's tree, as BeautifulSoup's ``"lxml"`` builder would build it (libxml2's HTML
    parser, recovering, any depth), its body's strings read as BeautifulSoup keeps them. Given
    UTF-8 bytes: libxml2 reads a Python ``str`` several times slower."""
    parser = etree.HTMLParser(encoding="utf-8", recover=True, no_network=True, huge_tree=True)
    root = etree.fromstring(html.encode("utf-8", "replace"), parser)
    if root is None:  # nothing libxml2 could read as a document
        root = etree.fromstring(b"<html></html>", parser)
    body = root.find("body")
    if body is not None:
        souplike.normalize(body)
    return root


def by_id(root: etree._Element, ident: str) -> etree._Element | None:
    """The first element (document order) whose ``id`` is ``ident``."""
    found = root.xpath("//*[@id=$ident][1]", ident=ident)
    return found[0] if found else None


def by_class(root: etree._Element, name: str) -> etree._Element | None:
    """The first element whose classes (split at whitespace, as BeautifulSoup does) include ``name``."""
    for element in root.xpath("//*[contains(@class, $name)]", name=name):
        if name in element.get("class", "").split():
            return element
    return None


def by_tag(root: etree._Element, tag: str) -> etree._Element | None:
    found = root.xpath(f"//{tag}[1]")
    return found[0] if found else None


def meta(root: etree._Element, name: str) -> str:
    """``content`` of the first ``<meta property=name>``, else of the first ``<meta name=name>``."""
    for attribute in ("property", "name"):
        found = root.xpath(f"//meta[@{attribute}=$name][1]", name=name)
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
