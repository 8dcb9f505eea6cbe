"""HTML parsed by lxml and written back exactly as BeautifulSoup (``"lxml"`` builder) writes it.

A BeautifulSoup parse builds a Python object per node through lxml's callbacks, several
times the cost of lxml's own tree, and its serialization is slower still. A source that
only drops a few blocks and hands the rest on as a string (wallstreetcn's detail answer)
does that work on an lxml tree instead, and gets the string ``soup.body.decode_contents()``
would give: the same libxml2 parse (same parser options), then BeautifulSoup's own
readings applied to it — whitespace-only strings outside ``<pre>``/``<textarea>`` as one
space or newline, multi-valued attributes (``class``, …) re-joined by single spaces,
a ``<meta>`` charset written as ``utf-8``, attributes sorted, void elements as ``<br/>``,
``&<>`` escaped (not in ``<script>``/``<style>`` text), comments and processing
instructions as they were.

The render and WeChat's cleaning work on lxml's tree read so (:func:`document`, operated on by ``pipelines.htmltree``),
and the render writes the HTML for html2text as BeautifulSoup wrote it (:func:`body_html`); markup where lxml's
tree holds less than BeautifulSoup's events (the document's own parts, leading comments and end
tags) is parsed by BeautifulSoup and its tree copied. ``tests/test_souplike.py`` and ``tests/test_serialize.py``
compare these with BeautifulSoup's own on every fixture and on generated markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from bs4 import BeautifulSoup, Comment, PageElement, Tag
from bs4.element import PreformattedString, ProcessingInstruction, RubyParenthesisString, RubyTextString
from lxml import etree

from pipelines import htmltree
from pipelines.article import repair_text

#: BeautifulSoup's HTML defaults (``bs4.builder.HTMLTreeBuilder``).
_ASCII_SPACES = "\x20\x0a\x09\x0c\x0d"
_PRESERVE_WHITESPACE = frozenset({"pre", "textarea"})
#: Tags whose strings BeautifulSoup types apart (Script, Stylesheet, …): not in ``get_text``.
_STRING_CONTAINERS = frozenset({"rt", "rp", "style", "script", "template"})
_CDATA_CONTAINING = frozenset({"script", "style"})
_VOID = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "menuitem", "meta",
    "param", "source", "track", "wbr", "basefont", "bgsound", "command", "frame", "image", "isindex",
    "nextid", "spacer",
})
_LIST_ATTRIBUTES = {
    "*": frozenset({"class", "accesskey", "dropzone"}),
    "a": frozenset({"rel", "rev"}), "link": frozenset({"rel", "rev"}),
    "td": frozenset({"headers"}), "th": frozenset({"headers"}), "form": frozenset({"accept-charset"}),
    "object": frozenset({"archive"}), "area": frozenset({"rel"}), "icon": frozenset({"sizes"}),
    "iframe": frozenset({"sandbox"}), "output": frozenset({"for"}),
}
#: libxml2 gives these attributes their own name as value when they stand bare (``<td nowrap>``),
#: where BeautifulSoup kept an empty value; bare is far likelier than ``nowrap="nowrap"``.
_BOOLEAN = frozenset({
    "checked", "compact", "declare", "defer", "disabled", "ismap", "multiple", "nohref", "noresize",
    "noshade", "nowrap", "readonly", "selected",
})
_NONWHITESPACE = re.compile(r"\S+")
_CONTENT_CHARSET = re.compile(r"((^|;)\s*charset=)([^;]*)", re.M)
#: Markup placing itself outside the body (a doctype, ``<html>``, ``<head>``, …): libxml2 tells BeautifulSoup
#: of it where it stands, but builds its own tree otherwise (tried on generated markup).
_OUTSIDE_BODY = re.compile(r"<\s*/?\s*(?:!doctype|html|head|body|title|frameset)\b", re.I)
#: An end tag before anything else: BeautifulSoup keeps the white space after it, before the document.
_LEADING_END_TAG = re.compile(r"\s*</")
#: What a removed element becomes: cleared, kept only for the text after it (lxml keeps that text in
#: the element, and cannot always take it over: it refuses control characters libxml2 let through).
_REMOVED = "souplike-removed"
#: What ``document`` puts at the top of a tree copied from BeautifulSoup's (its ``BeautifulSoup`` object).
DOCUMENT = "souplike-document"
_RUBY = ("rt", "rp")
#: What lxml refuses in a string it is given (libxml2's parse lets some of it through).
_UNSETTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _collapse(text: str | None) -> str | None:
    """A whitespace-only string as BeautifulSoup keeps it: one newline or one space (None: no string)."""
    if text is None or text.strip(_ASCII_SPACES):
        return text
    return "\n" if "\n" in text else " "


def _normalize(body: etree._Element) -> None:
    """Apply BeautifulSoup's whitespace reading to the strings in ``body`` (not inside ``<pre>``,
    ``<textarea>``); a comment's or processing instruction's text is one string, even empty."""
    preserved = {node for block in body.iter(*_PRESERVE_WHITESPACE) for node in block.iter()}
    for node in body.iter():
        if node is not body and node.getparent() not in preserved:
            if (tail := _collapse(node.tail)) != node.tail:
                node.tail = tail
        if node in preserved:
            continue
        text = node.text if isinstance(node.tag, str) else node.text or ""
        if (collapsed := _collapse(text)) != node.text:
            node.text = collapsed


def parse(html: str) -> etree._Element | None:
    """The ``<body>`` of ``html`` as BeautifulSoup(html, "lxml") reads it; None when there is none, or when
    ``html`` names the document's own parts (BeautifulSoup's tree then differs from lxml's)."""
    if _OUTSIDE_BODY.search(html):
        return None
    parser = etree.HTMLParser(recover=True, huge_tree=True)
    parser.feed(html)
    root = parser.close()
    if root is None:
        return None
    body = root.find("body")
    if body is not None:
        _normalize(body)
    return body


def normalize(body: etree._Element) -> None:
    """BeautifulSoup's whitespace reading applied to a ``<body>`` parsed elsewhere (a whole page,
    ``crawler/sources/wechat_page.py``), as ``parse`` applies it to its own."""
    _normalize(body)


def remove(node: etree._Element) -> None:
    """Take ``node`` and what it holds out of the tree, keeping the text after it (``decompose``)."""
    node.clear(keep_tail=True)
    node.tag = _REMOVED


def attached(node: etree._Element, root: etree._Element) -> bool:
    """Whether ``node`` is still under ``root`` (not inside an element removed since)."""
    return any(above is root for above in node.iterancestors()) and node.tag != _REMOVED


def _texts(node: etree._Element, typed: bool) -> Iterator[str]:
    """The plain strings under ``node`` in order (``typed``: inside a string container)."""
    inside = typed or node.tag in _STRING_CONTAINERS
    if node.text and not inside:
        yield node.text
    for child in node:
        if isinstance(child.tag, str):
            yield from _texts(child, inside)
        if child.tail and not inside:
            yield child.tail


def get_text(node: etree._Element) -> str:
    """What BeautifulSoup's ``get_text()`` gives for an element (not a string container): its
    plain strings, none inside (or under) a ``<script>``, ``<style>``, ``<template>``, ``<rt>``, ``<rp>``."""
    typed = any(above.tag in _STRING_CONTAINERS for above in node.iterancestors())
    return "".join(_texts(node, typed))


def _attribute(tag: str, name: str, value: str, element: etree._Element, escape: Callable[[str], str] = _escape) -> str:
    if name in _LIST_ATTRIBUTES["*"] or name in _LIST_ATTRIBUTES.get(tag, ()):
        value = " ".join(_NONWHITESPACE.findall(value))
    elif tag == "meta" and name == "charset":
        value = "utf-8"
    elif (tag == "meta" and name == "content" and element.get("charset") is None
          and (element.get("http-equiv") or "").lower() == "content-type"):
        value = _CONTENT_CHARSET.sub(lambda match: match.group(1) + "utf-8", value)
    elif name in _BOOLEAN and value == name:
        value = ""
    value = escape(value)
    if '"' not in value:
        return f'{name}="{value}"'
    if "'" not in value:
        return f"{name}='{value}'"
    return f'{name}="{value.replace(chr(34), "&quot;")}"'


def keep_nbsp(text: str) -> str:
    # html2text keeps "&nbsp;" as a space but drops a literal U+00A0 at the start of a
    # paragraph; the site keeps that leading space, so write the entity back.
    return _escape(text).replace("\xa0", "&nbsp;")


def _contents(node: etree._Element, raw: bool, escape: Callable[[str], str]) -> list[etree._Element | str]:
    """What ``node`` holds, in order: its strings (escaped, unless ``raw``) and its children."""
    items: list[etree._Element | str] = []
    if node.text:
        items.append(node.text if raw else escape(node.text))
    for child in node:
        # ruby text inside <script>/<style> is BeautifulSoup's Script or Stylesheet string: written as is
        items.append(child.text or "" if raw and child.tag == htmltree.TYPED else child)
        if child.tail:
            items.append(child.tail if raw else escape(child.tail))
    return items


def _write_all(items: list[etree._Element | str], out: list[str], nbsp: bool = False) -> None:
    """``items`` written in order, without recursion (content may nest ``MAX_DEPTH`` deep, more
    than Python's recursion limit allows at two calls a level). ``nbsp``: as the render hands them to
    html2text (``&nbsp;``, void elements without ``/``), else as BeautifulSoup's default formatter."""
    escape = keep_nbsp if nbsp else _escape
    void_end = ">" if nbsp else "/>"
    stack = items[::-1]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            out.append(node)
            continue
        tag = node.tag
        if tag is etree.Comment:
            out.append(f"<!--{node.text or ''}-->")
            continue
        if tag is etree.PI:
            out.append(f"<?{node.target} {node.text or ''}>")
            continue
        if not isinstance(tag, str):  # an entity reference: libxml2's HTML parser makes none
            raise ValueError(f"unexpected node {node!r}")
        if tag == _REMOVED:
            continue
        if tag == htmltree.TYPED:
            out.append(escape(node.text or ""))
            continue
        if tag == htmltree.RAW:
            out.append(node.text or "")
            continue
        if tag == htmltree.NAMED:
            tag = node.get(htmltree.NAME)
        attributes = "".join(" " + _attribute(tag, name, value, node, escape)
                             for name, value in sorted(node.attrib.items()) if name != htmltree.NAME)
        if tag in _VOID and not node.text and len(node) == 0:
            out.append(f"<{tag}{attributes}{void_end}")
            continue
        out.append(f"<{tag}{attributes}>")
        stack.append(f"</{tag}>")
        stack.extend(_contents(node, tag in _CDATA_CONTAINING, escape)[::-1])


def _write(node: etree._Element, out: list[str]) -> None:
    _write_all([node], out)


def _write_contents(node: etree._Element, out: list[str], raw: bool) -> None:
    _write_all(_contents(node, raw, _escape), out)


def outer_html(node: etree._Element) -> str:
    """``str(tag)`` of the element BeautifulSoup would have made of ``node`` (not the text after it)."""
    out: list[str] = []
    _write(node, out)
    return "".join(out)


def inner_html(node: etree._Element) -> str:
    """``decode_contents()`` of the element BeautifulSoup would have made of ``node``."""
    out: list[str] = []
    _write_contents(node, out, node.tag in _CDATA_CONTAINING)
    return "".join(out)


def body_html(root: etree._Element) -> str:
    """What BeautifulSoup's ``decode_contents(formatter=HTMLFormatter(entity_substitution=keep_nbsp,
    void_element_close_prefix=""))`` gives for the document's ``<body>``
    (for the whole document when it has none): the HTML handed to html2text."""
    body = next(root.iter("body"), None)
    if body is None and root.tag != DOCUMENT:
        items: list[etree._Element | str] = [root]  # lxml's root is the document's <html>
    else:
        body = root if body is None else body
        items = _contents(body, body.tag in _CDATA_CONTAINING, keep_nbsp)
    out: list[str] = []
    if body is not None and next(body.iter(etree.Comment, etree.PI, _REMOVED), None) is None:
        _write_walk(body, out)
    else:
        _write_all(items, out, nbsp=True)
    return "".join(out)


def _write_walk(body: etree._Element, out: list[str]) -> None:
    """What ``_write_all`` writes of ``body``'s contents (``nbsp``), in one walk of lxml's (elements only: no
    comment or processing instruction under ``body``)."""
    raw = [body.tag in _CDATA_CONTAINING]
    for event, node in etree.iterwalk(body, events=("start", "end")):
        tag = node.tag
        if event == "start":
            if node is body:
                if node.text:
                    out.append(node.text if raw[-1] else keep_nbsp(node.text))
                continue
            if tag == htmltree.TYPED:  # as is inside <script>/<style>, as ``_contents`` writes it
                out.append((node.text or "") if raw[-1] else keep_nbsp(node.text or ""))
                raw.append(raw[-1])
                continue
            if tag == htmltree.RAW:
                out.append(node.text or "")
                raw.append(raw[-1])
                continue
            if tag == htmltree.NAMED:
                tag = node.get(htmltree.NAME)
            attributes = "".join(" " + _attribute(tag, name, value, node, keep_nbsp)
                                 for name, value in sorted(node.attrib.items()) if name != htmltree.NAME) if node.attrib else ""
            out.append(f"<{tag}{attributes}>")
            raw.append(tag in _CDATA_CONTAINING)
            if node.text:
                out.append(node.text if raw[-1] else keep_nbsp(node.text))
            continue
        raw.pop()
        if node is body:
            continue
        if tag == htmltree.NAMED:
            tag = node.get(htmltree.NAME)
        if tag != htmltree.TYPED and tag != htmltree.RAW and not (tag in _VOID and not node.text and len(node) == 0):
            out.append(f"</{tag}>")
        if node.tail:
            out.append(node.tail if raw[-1] else keep_nbsp(node.tail))


def document(html: str) -> etree._Element:
    """The tree ``BeautifulSoup(html, "lxml")`` builds, as lxml elements (see ``pipelines.htmltree``):
    lxml's own tree read as BeautifulSoup reads it, or, for markup where lxml's tree holds less than
    BeautifulSoup's events (the document's own parts, a leading comment or end tag), BeautifulSoup's tree copied. Strings lxml cannot
    hold (control characters: in ``<rt>``/``<rp>`` text, and in what is copied) are held repaired
    (``repair_text``), as the cleaning stage repairs every string first."""
    root = None
    if not (_OUTSIDE_BODY.search(html) or _LEADING_END_TAG.match(html)):
        parser = etree.HTMLParser(recover=True, huge_tree=True)
        parser.feed(html)
        root = parser.close()
    if root is None or root.getprevious() is not None or root.getnext() is not None:
        return _copy(BeautifulSoup(html, "lxml"))
    _normalize(root)
    _type_ruby(root)
    return root


def settable(text: str) -> str:
    return repair_text(text) if _UNSETTABLE.search(text) else text


def _typed(parent: etree._Element, text: str) -> etree._Element:
    node = parent.makeelement(htmltree.TYPED)
    node.text = settable(text)
    return node


def _type_ruby(root: etree._Element) -> None:
    """The strings inside ``<rt>``/``<rp>`` as ``TYPED`` nodes (BeautifulSoup's ruby string classes)."""
    if next(root.iter(*_RUBY), None) is None:
        return
    for node in list(dict.fromkeys(node for ruby in root.iter(*_RUBY) for node in ruby.iter())):
        if not htmltree.is_tag(node):
            continue
        for child in list(node):
            if child.tail:
                child.addnext(_typed(node, child.tail))  # lxml moves the tail after the new node: taken below
                child.tail = None
        if node.text:
            node.insert(0, _typed(node, node.text))
            node.text = None


def _copy(document: BeautifulSoup) -> etree._Element:
    """BeautifulSoup's tree as lxml elements, under a ``DOCUMENT`` element standing for the document."""
    root = etree.HTML("<html></html>")
    root.tag = DOCUMENT
    frames: list[tuple[Iterator[PageElement], etree._Element]] = [(iter(document.contents), root)]
    while frames:
        children, parent = frames[-1]
        child = next(children, None)
        if child is None:
            frames.pop()
            continue
        last = parent[-1] if len(parent) else None
        if isinstance(child, Tag):
            name = f"{child.prefix}:{child.name}" if child.prefix else child.name
            try:
                element = etree.SubElement(parent, name)
            except ValueError:  # a name libxml2 made of broken markup, which lxml takes from no one else
                element = etree.SubElement(parent, htmltree.NAMED, {htmltree.NAME: name})
            for key, value in child.attrs.items():
                value = " ".join(value) if isinstance(value, list) else str(value)
                element.set(key, settable(value))
            frames.append((iter(child.contents), element))
        elif type(child) in (RubyTextString, RubyParenthesisString):
            parent.append(_typed(parent, child))
        elif isinstance(child, Comment):
            comment = etree.Comment()
            comment.text = settable(str(child))
            parent.append(comment)
        elif isinstance(child, ProcessingInstruction):
            target, _, text = str(child).partition(" ")
            parent.append(etree.PI(target, settable(text)))
        elif isinstance(child, PreformattedString):
            raw = parent.makeelement(htmltree.RAW)
            raw.text = settable(child.PREFIX + child + child.SUFFIX)
            parent.append(raw)
        elif not (text := settable(str(child))):
            parent.append(htmltree.empty(parent))
        else:
            if last is None:
                parent.text = (parent.text or "") + text
            else:
                last.tail = (last.tail or "") + text
    return root
