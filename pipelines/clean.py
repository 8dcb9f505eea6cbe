"""Generic HTML cleaning: what is true of any article body, whatever its source.

Source quirks (lazy images, site disclaimers, editor scaffolding) are handled
by the source's own module before this stage.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from urllib.parse import quote

from lxml import etree

from pipelines import escape, htmltree, literal, souplike
from pipelines.article import INVALID_TEXT, repair_text

#: Elements whose content is never article text.
DROP_TAGS = ("script", "style", "noscript", "template", "svg", "canvas", "form", "input", "button", "select", "textarea", "link", "meta")
#: Inline wrappers that carry only presentation.
UNWRAP_TAGS = ("span", "font", "small", "big", "o:p", "mark", "ins", "abbr", "time")
#: Generic containers html2text does not know; as ``div`` they still break blocks.
AS_DIV_TAGS = ("section", "article", "main", "center", "header", "footer", "aside", "figure")
#: Captions html2text would run into the image's line; as paragraphs they stand under it.
AS_P_TAGS = ("figcaption",)
#: Players Markdown cannot hold: each becomes a paragraph linking to its media, with this label.
MEDIA_LABELS = {"video": "视频", "audio": "音频", "iframe": "嵌入内容", "embed": "嵌入内容"}
#: Attributes the converter uses; everything else is styling noise.
KEEP_ATTRS = {"href", "src", "alt", "title", "colspan", "rowspan", "class", "data-lang", "start", literal.ATTRIBUTE, literal.SIGNATURE}
#: Schemes a link or image may use; anything else (javascript:, vbscript:, data:, file:, …) could run or leak.
SAFE_SCHEMES = ("http", "https")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
#: What browsers and Markdown ignore inside a URL's scheme: whitespace, controls, invisible
#: characters, and backslashes (Markdown's escapes: ``javascript\:`` reads ``javascript:``).
_IGNORED_IN_URL = re.compile(r"[\x00-\x20\x7f-\xa0\u00ad\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\\]")
#: A URL scheme that runs or reads something, as text (alt texts and titles should not name one).
_SCRIPT_SCHEME = re.compile(r"(?:java|vb)script:|data:text/|file:/", re.IGNORECASE)
#: What ``repair_text`` or ``escape.unforgeable`` would change (line separators, invalid text, our own
#: marks): most strings hold none, and skip both.
_NEEDS_REPAIR = re.compile(f"{INVALID_TEXT.pattern}|[\r\u2028\u2029\U0010ff00-\U0010ffff]")
#: A quick first look for ``_NEEDS_REPAIR`` (more characters, far fewer ranges: several times faster).
_MAY_NEED_REPAIR = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff\r\u2028\u2029\U00010000-\U0010ffff]")
#: Characters an alt text or title shows but that could make markup there.
_ATTRIBUTE_ACTIVE = str.maketrans({char: escape.protected(char) for char in "<>&`{"})


Node = etree._Element


def safe_url(url: str) -> str:
    """Percent-encode what a Markdown link destination cannot hold raw (spaces, non-ASCII, ``<>``)."""
    return quote(url.strip(), safe=":/?#[]@!$&'()*+,;=%~")


def destination(url: str, relative: bool = True) -> str | None:
    """``url`` as a link or image destination, or None when a reader must not be sent there.

    Judged as the browser will read it after Markdown and HTML decoding: entities decoded
    (repeatedly: Goldmark decodes the ones we write once more), whitespace, controls,
    invisible characters and backslashes removed. Only http(s) passes, and, when
    ``relative``, a URL without a scheme; protocol-relative ``//host`` always does.
    """
    view = url
    for _ in range(8):
        decoded = unescape(view)
        if decoded == view:
            break
        view = decoded
    view = _IGNORED_IN_URL.sub("", view)
    if not view:
        return None
    scheme = _SCHEME.match(view)
    if scheme:
        allowed = scheme.group(1).lower() in SAFE_SCHEMES
    else:
        allowed = relative or view.startswith("//")
    return safe_url(url.strip("".join(map(chr, range(0x21))))) if allowed else None


def _attribute_text(value: str, quote: bool) -> str:
    """An alt text or title on one line, its markup-active characters left for ``escape.restore``
    (a title's double quotes, which would end it, as single quotes). One naming a script URL
    describes nothing: it is an attack (or noise) and is emptied."""
    if _SCRIPT_SCHEME.search(_IGNORED_IN_URL.sub("", unescape(value))):
        return ""
    value = " ".join(escape.unforgeable(repair_text(value)).split()).translate(_ATTRIBUTE_ACTIVE)
    return value.replace('"', "'") if quote else value


def _media_url(tag: Node) -> str:
    sources = [tag, *(source for source in tag.iter("source") if source is not tag)]
    return next((str(s.get("src")).strip() for s in sources if str(s.get("src") or "").strip()), "")


def link_media(root: Node) -> None:
    """Replace video, audio and embedded frames by a paragraph linking to what they play."""
    for tag in list(root.iter(*MEDIA_LABELS)):
        if tag.getparent() is None:
            continue
        url = destination(_media_url(tag), relative=False)
        if url is None:
            htmltree.remove(tag)
            continue
        paragraph = tag.makeelement("p")
        link = etree.SubElement(paragraph, "a", href=url)
        link.text = souplike.settable(str(tag.get("title") or "").strip() or MEDIA_LABELS[tag.tag])
        htmltree.replace(tag, [paragraph])


def join_item_paragraphs(root: Node) -> None:
    """Keep a list item's paragraphs inside it, as lines of one block.

    html2text does not indent a list item's second paragraph, so it would fall out
    of the list; line breaks keep it in (breaks at an item's edges are dropped later).
    """
    if next(root.iter("li"), None) is None:
        return
    for block in list(root.iter("p", "div")):
        item = htmltree.ancestor(block, ("li", "blockquote", "table", "pre"))
        if item is None or item.tag != "li":
            continue
        htmltree.replace(block, [block.makeelement("br"), *htmltree.contents(block), block.makeelement("br")])


def parse(html: str) -> Node:
    """The tree ``BeautifulSoup(html, "lxml")`` builds, as lxml elements (``pipelines.souplike.document``)."""
    return souplike.document(html)


def serialize(root: Node) -> str:
    """HTML for html2text, with non-breaking spaces kept as entities (``souplike.body_html``)."""
    return souplike.body_html(root)


def _repair(text: str | None) -> str | None:
    if text and _NEEDS_REPAIR.search(text):
        return escape.unforgeable(repair_text(text))
    return text


def _repair_strings(root: Node) -> None:
    """Repair every string (``repair_text``), keeping where one is emptied (BeautifulSoup keeps an empty string)."""
    for node in list(root.iter()):
        if (text := _repair(node.text)) != node.text:
            node.text = text
            if not text and htmltree.is_tag(node):
                node.insert(0, htmltree.empty(node))
        if (tail := _repair(node.tail)) != node.tail:
            node.tail = tail or None
            if not tail:
                node.addnext(htmltree.empty(node))


def clean(root: Node, rewrite_image: Callable[[str], str] = lambda url: url) -> Node:
    """Strip non-content elements and styling, and rewrite image URLs in place."""
    literal.strip_forged(root)  # only our own cleaners hand over literal Markdown
    strings = htmltree.all_strings(root)
    if _MAY_NEED_REPAIR.search(strings) and _NEEDS_REPAIR.search(strings):  # character references decode to anything
        _repair_strings(root)
    for comment in list(root.iter(etree.Comment)):
        htmltree.remove(comment)
    for tag in list(root.iter(*DROP_TAGS)):
        htmltree.remove(tag)
    link_media(root)
    for img in list(root.iter("img")):
        src = str(img.get("src") or "").strip()
        url = destination(rewrite_image(src)) if src else None
        if url is None:
            htmltree.remove(img)
            continue
        img.set("src", url)
    for a in [a for a in root.iter("a") if a.get("href") is not None]:
        href = str(a.get("href")).strip()
        url = None if href.startswith("#") else destination(href)
        if url is None:
            htmltree.unwrap(a)  # no destination a reader could (safely) follow: keep the text
        else:
            a.set("href", url)
    for tag in list(root.iter("a", "img")):
        for name in ("alt", "title"):
            if (value := tag.get(name)) is not None:
                tag.set(name, _attribute_text(value, quote=name == "title"))
    for tag in list(root.iter(*AS_DIV_TAGS)):
        tag.tag = "div"
    for tag in list(root.iter(*AS_P_TAGS)):
        tag.tag = "p"
    join_item_paragraphs(root)
    for tag in list(root.iter(*UNWRAP_TAGS)):
        if literal.markdown_of(tag) is None:  # literal Markdown handed over by a source cleaner
            htmltree.unwrap(tag)
    for tag in root.iter(etree.Element):
        for name in [name for name in tag.attrib if name not in KEEP_ATTRS and name != htmltree.NAME]:
            del tag.attrib[name]
    return root
