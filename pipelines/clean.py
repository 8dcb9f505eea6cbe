"""Generic HTML cleaning: what is true of any article body, whatever its source.

Source quirks (lazy images, site disclaimers, editor scaffolding) are handled
by the source's own module before this stage.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from urllib.parse import quote

from bs4 import BeautifulSoup, Comment, NavigableString, Tag
from bs4.dammit import EntitySubstitution
from bs4.element import AttributeValueWithCharsetSubstitution, PreformattedString
from bs4.formatter import HTMLFormatter

from pipelines import escape, literal, souplike, tree
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
#: Characters an alt text or title shows but that could make markup there.
_ATTRIBUTE_ACTIVE = str.maketrans({char: escape.protected(char) for char in "<>&`{"})


def _keep_nbsp(text: str) -> str:
    # html2text keeps "&nbsp;" as a space but drops a literal U+00A0 at the start of a
    # paragraph; the site keeps that leading space, so write the entity back.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\xa0", "&nbsp;")


NBSP_FORMATTER = HTMLFormatter(entity_substitution=_keep_nbsp, void_element_close_prefix="")


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


def _media_url(tag: Tag) -> str:
    sources = [tag, *tree.tags(tag, "source")]
    return next((str(s["src"]).strip() for s in sources if str(s.get("src") or "").strip()), "")


def link_media(soup: BeautifulSoup) -> None:
    """Replace video, audio and embedded frames by a paragraph linking to what they play."""
    for tag in tree.tags(soup, MEDIA_LABELS):
        if tag.parent is None:
            continue
        url = destination(_media_url(tag), relative=False)
        if url is None:
            tag.decompose()
            continue
        link = soup.new_tag("a", href=url)
        link.string = str(tag.get("title") or "").strip() or MEDIA_LABELS[tag.name]
        paragraph = soup.new_tag("p")
        paragraph.append(link)
        tag.replace_with(paragraph)


def join_item_paragraphs(soup: BeautifulSoup) -> None:
    """Keep a list item's paragraphs inside it, as lines of one block.

    html2text does not indent a list item's second paragraph, so it would fall out
    of the list; line breaks keep it in (breaks at an item's edges are dropped later).
    """
    for block in tree.tags(soup, ("p", "div")):
        item = tree.ancestor(block, ("li", "blockquote", "table", "pre"))
        if item is None or item.name != "li":
            continue
        block.insert_before(soup.new_tag("br"))
        block.insert_after(soup.new_tag("br"))
        block.unwrap()


def parse(html: str) -> BeautifulSoup:
    """``BeautifulSoup(html, "lxml")``, built from lxml's tree (``pipelines.souplike``: a third less CPU)."""
    return souplike.soup(html)


def _attribute(name: str, value: object) -> str:
    """``name="value"`` as ``Tag.decode`` writes it with ``NBSP_FORMATTER``."""
    if value is None:
        return name
    if isinstance(value, list | tuple):
        value = " ".join(value)
    elif isinstance(value, AttributeValueWithCharsetSubstitution):
        value = value.substitute_encoding("utf-8")
    return f"{name}={EntitySubstitution.quoted_attribute_value(_keep_nbsp(str(value)))}"


def serialize(soup: BeautifulSoup | Tag) -> str:
    """HTML for html2text, with non-breaking spaces kept as entities: what
    ``decode_contents(formatter=NBSP_FORMATTER)`` gives, in a fraction of its time (one walk over
    ``contents`` lists instead of its event stream and a formatter call per node)."""
    root = soup.body if isinstance(soup, BeautifulSoup) and soup.body else soup
    out: list[str] = []
    walks = [iter(root.contents)]
    closers = [""]  # per open element: its end tag
    raws = [root.name in NBSP_FORMATTER.cdata_containing_tags]  # per open element: its text is written as is
    while walks:
        node = next(walks[-1], None)
        if node is None:
            walks.pop()
            raws.pop()
            out.append(closers.pop())
        elif isinstance(node, NavigableString):
            text = str(node) if raws[-1] or isinstance(node, PreformattedString) else _keep_nbsp(node)
            out.append(node.PREFIX + text + node.SUFFIX)
        elif node.hidden:
            walks.append(iter(node.contents))
            closers.append("")
            raws.append(node.name in NBSP_FORMATTER.cdata_containing_tags)
        else:
            name = f"{node.prefix}:{node.name}" if node.prefix else node.name
            attributes = "".join(" " + _attribute(key, value) for key, value in sorted(node.attrs.items()))
            out.append(f"<{name}{attributes}>")  # a void element too: NBSP_FORMATTER writes no "/"
            if not node.is_empty_element:
                walks.append(iter(node.contents))
                closers.append(f"</{name}>")
                raws.append(node.name in NBSP_FORMATTER.cdata_containing_tags)
    return "".join(out)


def clean(soup: BeautifulSoup, rewrite_image: Callable[[str], str] = lambda url: url) -> BeautifulSoup:
    """Strip non-content elements and styling, and rewrite image URLs in place."""
    literal.strip_forged(soup)  # only our own cleaners hand over literal Markdown
    for text in tree.strings(soup):  # character references decode to anything: repair what they gave
        if _NEEDS_REPAIR.search(text):
            repaired = escape.unforgeable(repair_text(str(text)))
            if repaired != text:
                text.replace_with(type(text)(repaired))
    for comment in [s for s in tree.strings(soup) if isinstance(s, Comment)]:
        comment.extract()
    for tag in tree.tags(soup, DROP_TAGS):
        tag.decompose()
    link_media(soup)
    for img in tree.tags(soup, "img"):
        src = str(img.get("src") or "").strip()
        url = destination(rewrite_image(src)) if src else None
        if url is None:
            img.decompose()
            continue
        img["src"] = url
    for a in tree.tags(soup, "a", lambda tag: tag.has_attr("href")):
        href = str(a["href"]).strip()
        url = None if href.startswith("#") else destination(href)
        if url is None:
            a.unwrap()  # no destination a reader could (safely) follow: keep the text
        else:
            a["href"] = url
    for tag in tree.tags(soup, ("a", "img")):
        for name in ("alt", "title"):
            if tag.has_attr(name):
                tag[name] = _attribute_text(str(tag[name]), quote=name == "title")
    for tag in tree.tags(soup, AS_DIV_TAGS):
        tag.name = "div"
    for tag in tree.tags(soup, AS_P_TAGS):
        tag.name = "p"
    join_item_paragraphs(soup)
    for tag in tree.tags(soup, UNWRAP_TAGS):
        if literal.markdown_of(tag) is None:  # literal Markdown handed over by a source cleaner
            tag.unwrap()
    for tag in tree.tags(soup):
        tag.attrs = {k: v for k, v in tag.attrs.items() if k in KEEP_ATTRS}
    return soup
