"""Generic HTML cleaning: what is true of any article body, whatever its source.

Source quirks (lazy images, site disclaimers, editor scaffolding) are handled
by the source's own module before this stage.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from bs4 import BeautifulSoup, Comment, Tag
from bs4.formatter import HTMLFormatter

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
KEEP_ATTRS = {"href", "src", "alt", "title", "colspan", "rowspan", "class", "data-lang", "data-md", "start"}


def _keep_nbsp(text: str) -> str:
    # html2text keeps "&nbsp;" as a space but drops a literal U+00A0 at the start of a
    # paragraph; the site keeps that leading space, so write the entity back.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\xa0", "&nbsp;")


NBSP_FORMATTER = HTMLFormatter(entity_substitution=_keep_nbsp, void_element_close_prefix="")


def safe_url(url: str) -> str:
    """Percent-encode what a Markdown link destination cannot hold raw (spaces, non-ASCII, ``<>``)."""
    return quote(url.strip(), safe=":/?#[]@!$&'()*+,;=%~")


def _media_url(tag: Tag) -> str:
    sources = [tag, *tag.find_all("source")]
    return next((str(s["src"]).strip() for s in sources if str(s.get("src") or "").strip()), "")


def link_media(soup: BeautifulSoup) -> None:
    """Replace video, audio and embedded frames by a paragraph linking to what they play."""
    for tag in soup.find_all(list(MEDIA_LABELS)):
        if tag.parent is None:
            continue
        url = _media_url(tag)
        if not url.startswith(("http://", "https://", "//")):
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
    for block in soup.find_all(["p", "div"]):
        item = block.find_parent(["li", "blockquote", "table", "pre"])
        if item is None or item.name != "li":
            continue
        block.insert_before(soup.new_tag("br"))
        block.insert_after(soup.new_tag("br"))
        block.unwrap()


def parse(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


def serialize(soup: BeautifulSoup | Tag) -> str:
    """HTML for html2text, with non-breaking spaces kept as entities."""
    root = soup.body if isinstance(soup, BeautifulSoup) and soup.body else soup
    return root.decode_contents(formatter=NBSP_FORMATTER) if root is not None else ""


def clean(soup: BeautifulSoup, rewrite_image: Callable[[str], str] = lambda url: url) -> BeautifulSoup:
    """Strip non-content elements and styling, and rewrite image URLs in place."""
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(DROP_TAGS):
        tag.decompose()
    link_media(soup)
    for img in soup.find_all("img"):
        src = (img.get("src") or "").strip()
        if not src or src.startswith("data:"):
            img.decompose()
            continue
        img["src"] = safe_url(rewrite_image(src))
    for a in soup.find_all("a", href=True):
        if str(a["href"]).strip().lower().startswith(("javascript:", "#")):
            a.unwrap()  # no destination a reader could follow: keep the text
        else:
            a["href"] = safe_url(a["href"])
    for tag in soup.find_all(AS_DIV_TAGS):
        tag.name = "div"
    for tag in soup.find_all(AS_P_TAGS):
        tag.name = "p"
    join_item_paragraphs(soup)
    for tag in soup.find_all(UNWRAP_TAGS):
        if not tag.has_attr("data-md"):  # literal Markdown handed over by a source cleaner
            tag.unwrap()
    for tag in soup.find_all(True):
        tag.attrs = {k: v for k, v in tag.attrs.items() if k in KEEP_ATTRS}
    return soup
