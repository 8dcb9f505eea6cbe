"""One parse of a WeChat page with lxml: the elements the source reads, and ``#js_content``'s HTML
as BeautifulSoup would have written it.

A saved WeChat page is 3 MB, 97% of it inline ``<script>``. A full BeautifulSoup parse of it
(Python calls for every node) cost ~150 ms a page; libxml2 building the tree by itself (the
very parser BeautifulSoup's ``"lxml"`` builder drives, so the same tree) costs a few. The page
is parsed once here; the source reads its elements, texts and scripts from this tree, and the
cleaning stage (``wechat_clean``) gets the small ``#js_content`` subtree serialized exactly as
``str(tag)`` of the BeautifulSoup tree did, so every output stays byte-identical. The rules
copied from BeautifulSoup (4.x, ``"lxml"`` builder, ``minimal`` formatter) are named below.
Where libxml2's own tree differs from what it told BeautifulSoup: a bare boolean attribute
(``_BOOLEAN``), and a ``<!DOCTYPE>`` inside the content, which BeautifulSoup kept as a
declaration and the tree drops (the render drops it as well: same Markdown).

This module needs no Scrapy: it runs in the parse workers (``pipelines.workers``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

#: Elements BeautifulSoup writes as ``<br/>`` when they hold nothing (``HTMLTreeBuilder.empty_element_tags``).
_VOID = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "menuitem", "meta",
    "param", "source", "track", "wbr", "basefont", "bgsound", "command", "frame", "image", "isindex",
    "nextid", "spacer",
})
#: Attributes BeautifulSoup splits at whitespace and joins again with one space
#: (``HTMLTreeBuilder.DEFAULT_CDATA_LIST_ATTRIBUTES``).
_LIST_ATTRIBUTES = {
    "*": frozenset({"class", "accesskey", "dropzone"}),
    "a": frozenset({"rel", "rev"}), "link": frozenset({"rel", "rev"}), "td": frozenset({"headers"}),
    "th": frozenset({"headers"}), "form": frozenset({"accept-charset"}), "object": frozenset({"archive"}),
    "area": frozenset({"rel"}), "icon": frozenset({"sizes"}), "iframe": frozenset({"sandbox"}),
    "output": frozenset({"for"}),
}
#: libxml2 gives these attributes their own name as value when written bare (``<td nowrap>``),
#: where BeautifulSoup kept an empty value; a bare one is far likelier than ``nowrap="nowrap"``.
_BOOLEAN = frozenset({
    "checked", "compact", "declare", "defer", "disabled", "ismap", "multiple", "nohref", "noresize",
    "noshade", "nowrap", "readonly", "selected",
})
#: Elements whose strings are no text to BeautifulSoup's ``get_text`` (``string_containers``).
_NOT_TEXT = frozenset({"script", "style", "template", "rt", "rp"})
#: Elements whose strings BeautifulSoup writes unescaped (``cdata_containing_tags``).
_RAW = frozenset({"script", "style"})
#: Elements inside which BeautifulSoup keeps whitespace-only strings as they are.
_PRESERVE = frozenset({"pre", "textarea"})
_ASCII_SPACES = "\x20\x0a\x09\x0c\x0d"
_ESCAPE = re.compile(r"[&<>]")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_NON_SPACE = re.compile(r"\S+")
_SPACES = re.compile(r"\s+")
_CONTENT_CHARSET = re.compile(r"((^|;)\s*charset=)([^;]*)", re.M)


def parse(html: str) -> etree._Element:
    """The page's tree, as BeautifulSoup's ``"lxml"`` builder would build it (libxml2's HTML
    parser, recovering). Given UTF-8 bytes: libxml2 reads a Python ``str`` several times slower."""
    parser = etree.HTMLParser(encoding="utf-8", recover=True, no_network=True, huge_tree=True)
    root = etree.fromstring(html.encode("utf-8", "surrogatepass"), parser)
    if root is None:  # nothing libxml2 could read as a document
        root = etree.fromstring(b"<html></html>", parser)
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


def _strings(element: etree._Element, kind: str) -> Iterator[str]:
    """The strings BeautifulSoup's ``get_text`` yields for ``element``: text of elements and tails,
    not comments and processing instructions, nor strings inside ``_NOT_TEXT`` elements.
    ``kind``: the innermost ``_NOT_TEXT`` element ``element`` is in, or ""."""
    if isinstance(element.tag, str):
        if element.tag in _NOT_TEXT:
            kind = element.tag
        if element.text and not kind:
            yield element.text
        for child in element:
            yield from _strings(child, kind)
            if child.tail and not kind:
                yield child.tail


def _container(element: etree._Element) -> str:
    """The innermost ``_NOT_TEXT`` element around ``element`` (itself included), or ""."""
    node: etree._Element | None = element
    while node is not None:
        if node.tag in _NOT_TEXT:
            return str(node.tag)
        node = node.getparent()
    return ""


def text(element: etree._Element) -> str:
    """``get_text()`` with whitespace runs made one space, trimmed."""
    return _SPACES.sub(" ", "".join(_strings(element, _container(element)))).strip()


def has_text(element: etree._Element) -> bool:
    """Whether ``get_text(strip=True)`` would be non-empty."""
    return any(string.strip() for string in _strings(element, _container(element)))


def has_descendant(element: etree._Element, names: tuple[str, ...]) -> bool:
    return next(element.iterdescendants(*names), None) is not None


def outer_html(element: etree._Element) -> str:
    """``str(tag)`` of the element in BeautifulSoup's tree (``minimal`` formatter: attributes sorted by name)."""
    out: list[str] = []
    _write(element, out, any(node.tag in _PRESERVE for node in element.iterancestors()))
    return "".join(out)


def _string(value: str, parent: str, preserve: bool) -> str:
    """A string as BeautifulSoup keeps and writes it: ASCII-whitespace-only strings outside
    ``pre``/``textarea`` become one newline or space; ``&<>`` escaped but in scripts and styles."""
    if not preserve and not value.strip(_ASCII_SPACES):  # (an empty string too)
        return "\n" if "\n" in value else " "
    return value if parent in _RAW else _ESCAPE.sub(lambda m: _ENTITIES[m.group()], value)


def _attribute(name: str, value: str, element: etree._Element) -> str:
    """One attribute as BeautifulSoup writes it: list attributes re-joined, a ``<meta>``'s charset
    as the output's (``utf-8``), ``&<>`` escaped, quoted with ``"`` unless the value holds one."""
    tag = element.tag
    if name in _LIST_ATTRIBUTES["*"] or name in _LIST_ATTRIBUTES.get(tag, ()):
        value = " ".join(_NON_SPACE.findall(value))
    elif tag == "meta" and name == "charset":
        value = "utf-8"
    elif (tag == "meta" and name == "content" and element.get("charset") is None
          and (element.get("http-equiv") or "").lower() == "content-type"):
        value = _CONTENT_CHARSET.sub(lambda match: match.group(1) + "utf-8", value)
    elif name in _BOOLEAN and value == name:
        value = ""
    value = _ESCAPE.sub(lambda m: _ENTITIES[m.group()], value)
    if '"' not in value:
        return f'{name}="{value}"'
    if "'" not in value:
        return f"{name}='{value}'"
    return '{}="{}"'.format(name, value.replace('"', "&quot;"))


def _write(element: etree._Element, out: list[str], preserve: bool) -> None:
    """``element`` (not its tail) as BeautifulSoup writes it; ``preserve``: inside ``pre``/``textarea``."""
    tag = element.tag
    if tag is etree.Comment:  # a comment is a string too: whitespace-only ones collapse (an empty one to " ")
        comment = element.text or ""
        out.append(f"<!--{comment if preserve or comment.strip(_ASCII_SPACES) else _string(comment, '', False)}-->")
    elif tag is etree.ProcessingInstruction:
        out.append(f"<?{element.target} {element.text or ''}>")
    elif isinstance(tag, str):
        attributes = "".join(" " + _attribute(name, value, element) for name, value in sorted(element.attrib.items()))
        if tag in _VOID and not element.text and not len(element):
            out.append(f"<{tag}{attributes}/>")
        else:
            inner = preserve or tag in _PRESERVE
            out.append(f"<{tag}{attributes}>")
            if element.text:
                out.append(_string(element.text, tag, inner))
            for child in element:
                _write(child, out, inner)
                if child.tail:
                    out.append(_string(child.tail, tag, inner))
            out.append(f"</{tag}>")
