"""WeChat's article body (``div#js_content``) made into plain article HTML.

The editor ships a body no generic converter reads right: images are lazy
(``data-src`` only) or CSS backgrounds, text sits in deep ``section``/``span``
nesting (``li > section`` empties list items, ``h2 > section`` splits headings),
code blocks are one ``<code>`` per line with no newline between them, formulas
are SVG renderings whose LaTeX only survives in ``data-formula``, audio, video
and music are custom elements, and accounts append their own trailers. This
module turns all that into HTML the shared pipeline stages understand; it does
no I/O.

It works on lxml's tree read as BeautifulSoup read the markup (``souplike.document``,
less than half the cost of cleaning BeautifulSoup's tree), and gives the very HTML it gave when it
worked on BeautifulSoup's (``tests/test_wechat_clean.py``): where BeautifulSoup keeps two
strings apart that lxml would join, a ``_part`` keeps them apart too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from html import unescape

from lxml import etree

from pipelines import htmltree, literal, souplike

#: Elements that are page machinery, never article content.
SCAFFOLDING = (
    "script", "style", "noscript", "template", "link", "meta",
    "mp-style-type",  # the editor's style settings
    "mp-common-profile",  # "follow this account" card
    "mp-miniprogram", "mp-common-miniprogram", "mp-common-product", "mp-common-shop",
    "mp-common-poi", "mp-common-search", "mp-common-cpsad", "mp-common-adcard",
    "mp-common-redpacketcover", "mp-common-videosnap", "mp-common-live", "mpprofile",
)
#: Classes of scaffolding blocks inside the body (the account card's wrapper).
SCAFFOLDING_CLASSES = ("mp_profile_iframe_wrp",)
#: ``alt`` texts WeChat puts on every picture; they say nothing about it.
PLACEHOLDER_ALTS = ("图片", "image", "Image")
VOICE_URL = "https://res.wx.qq.com/voice/getvoice?mediaid={}"
MUSIC_URL = "https://y.qq.com/n/ryqq/songDetail/{}"
VIDEO_URL = "https://v.qq.com/x/page/{}.html"
_BACKGROUND_URL = re.compile(r"background(?:-image)?\s*:[^;]*?url\(\s*(?:\"([^\"]*)\"|'([^']*)'|([^)'\"]*))\s*\)", re.I)
_HIDDEN = re.compile(r"(?:^|;)\s*display\s*:\s*none\b", re.I)
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
#: Blocks editors nest; inside a list item, heading, paragraph or table cell they only break the text up.
_NESTING = ("section", "div", "p", "article", "figure")
_LINE_CONTAINERS = ("li", *_HEADINGS, "p", "td", "th")
#: Elements that end a line of text.
_BLOCKS = ("p", "li", "ul", "ol", "blockquote", "pre", "table", *_HEADINGS, "section", "div", "figure", "body")
_INLINE_EMPHASIS = ("strong", "b", "em", "i", "u")
#: Elements that are content without any text.
_CONTENT_ELEMENTS = ("img", "hr", "table", "pre", "iframe")
_RUBY = ("rt", "rp")
#: How BeautifulSoup splits a multi-valued attribute (``class``).
_WORDS = re.compile(r"\S+")


@dataclass(frozen=True)
class JunkRules:
    """Decorative boilerplate of one account, removed from its articles.

    ``blocks``: regexes; a line (a paragraph, list item, or text loose in a
    section, up to the next block) whose whole text matches is removed.
    ``trailer``: regexes; the first line whose whole text matches starts the
    account's trailer, which is removed with everything after it. ``images``: regexes of image URLs to drop
    (e.g. the account's QR code). Nothing is removed unless a rule says so.
    """

    blocks: tuple[str, ...] = ()
    trailer: tuple[str, ...] = ()
    images: tuple[str, ...] = ()

    @classmethod
    def from_setting(cls, value: Mapping[str, Iterable[str]] | None) -> JunkRules:
        value = value or {}
        return cls(*(tuple(value.get(name) or ()) for name in ("blocks", "trailer", "images")))

    def __add__(self, other: JunkRules) -> JunkRules:
        return JunkRules(self.blocks + other.blocks, self.trailer + other.trailer, self.images + other.images)


def junk_rules(setting: Mapping[str, Mapping[str, Iterable[str]]], account_keys: Sequence[str]) -> JunkRules:
    """The rules for an account: ``"*"`` (every account) plus those keyed by any of its names
    (nickname, ``__biz``, account number, ``gh_`` user name)."""
    rules = JunkRules.from_setting(setting.get("*"))
    for key in dict.fromkeys(k for k in account_keys if k):
        if key in setting:
            rules = rules + JunkRules.from_setting(setting[key])
    return rules


Node = etree._Element
#: A string of BeautifulSoup's tree, held in lxml's ``text`` or ``tail`` of an element: (element, "text" | "tail").
Segment = tuple[Node, str]
#: A child as BeautifulSoup counts them: an element, a comment, processing instruction or string node, or a string.
Piece = Node | Segment
#: The attribute of a ``_part``.
_PART = "wechat-part"


@dataclass
class Cleaner:
    """Cleans one ``#js_content``; a class only to keep the tree and rules together."""

    root: Node
    rules: JunkRules = field(default_factory=JunkRules)

    def new(self, name: str, text: str = "", **attrs: str) -> Node:
        tag = self.root.makeelement(name, {key: souplike.settable(value) for key, value in attrs.items()})
        if text:
            tag.text = souplike.settable(text)
        return tag

    def link_block(self, node: Node, label: str, url: str) -> None:
        """Replace an embed with a paragraph linking to its media."""
        paragraph = self.new("p")
        paragraph.append(self.new("a", label, href=url))
        _replace(node, [paragraph])


def _part(near: Node) -> Node:
    """Where BeautifulSoup keeps two strings apart that lxml would join (after a removal or an unwrap):
    written as nothing, and no string itself. ``_trim_edges`` strips only the first and last string."""
    return near.makeelement(htmltree.RAW, {_PART: ""})


def _is_part(node: Node) -> bool:
    return node.tag == htmltree.RAW and node.get(_PART) is not None


def _replace(node: Node, items: Iterable[Node | str] = ()) -> None:
    """Put ``items`` where ``node`` is (none: ``decompose``/``extract``; its contents: ``unwrap``), the strings
    around them kept apart as BeautifulSoup keeps them. A node already taken out stays out, as it was."""
    parent = node.getparent()
    if parent is None:
        return
    previous = node.getprevious()
    joined = bool(previous.tail if previous is not None else parent.text)  # a string just before
    placed: list[Node | str] = []
    for item in items:
        if isinstance(item, str):
            if not item:
                continue
            if joined:
                placed.append(_part(parent))
            joined = True
        else:
            joined = False
        placed.append(item)
    if joined and node.tail:
        placed.append(_part(parent))
    htmltree.replace(node, placed)


def _unwrap(node: Node) -> None:
    _replace(node, htmltree.contents(node))


def _children(node: Node) -> list[Piece]:
    """What ``node`` holds as BeautifulSoup has it: its strings and its nodes, in order (``Tag.contents``)."""
    pieces: list[Piece] = [(node, "text")] if node.text else []
    for child in node:
        if not _is_part(child):
            pieces.append(child)
        if child.tail:
            pieces.append((child, "tail"))
    return pieces


def _descendants(top: Node) -> Iterator[Piece]:
    """Everything under ``top`` in document order (``Tag.descendants``)."""
    stack = _children(top)[::-1]
    while stack:
        piece = stack.pop()
        yield piece
        if not isinstance(piece, tuple) and htmltree.is_tag(piece):
            stack.extend(_children(piece)[::-1])


def _is_string(piece: Piece) -> bool:
    return isinstance(piece, tuple) or not htmltree.is_tag(piece)


def _value(piece: Piece) -> str:
    """The string a piece that is one holds (a comment's text, …)."""
    if isinstance(piece, tuple):
        return getattr(piece[0], piece[1]) or ""
    return htmltree.string_of(piece) or ""


def _set_string(piece: Piece, text: str) -> None:
    """Replace a string (or comment, …) by a plain string holding ``text`` (``replace_with(text)``)."""
    if not isinstance(piece, tuple):
        _replace(piece, [text or htmltree.empty(piece)])
    elif text:
        setattr(piece[0], piece[1], text)
    else:  # BeautifulSoup keeps the emptied string
        owner, kind = piece
        setattr(owner, kind, None)
        if kind == "text":
            owner.insert(0, htmltree.empty(owner))
        else:
            owner.addnext(htmltree.empty(owner))


def _extract(piece: Piece) -> None:
    if isinstance(piece, tuple):
        setattr(piece[0], piece[1], None)
    else:
        _replace(piece)


def _hold_repaired(root: Node) -> None:
    """Strings lxml refuses to be given (control characters libxml2's parse let through) held repaired, as
    ``souplike.settable`` holds the strings it is given: the cleaning moves strings, which gives them anew."""
    strings = htmltree.all_strings(root)
    if souplike.settable(strings) is strings:
        return
    for node in root.iter():
        for kind in ("text", "tail"):
            value = getattr(node, kind)
            if value and (repaired := souplike.settable(value)) is not value:
                setattr(node, kind, repaired)


def _classes(tag: Node) -> list[str]:
    return _WORDS.findall(tag.get("class") or "")


def _elements(root: Node) -> list[Node]:
    """Every element (as BeautifulSoup's tags) under and including ``root``, taken whole before any change."""
    return [node for node in root.iter(etree.Element) if htmltree.is_tag(node)]


def _text(node: Node) -> str:
    """``get_text()`` of an element: its plain strings (``htmltree.get_text``; read by lxml at once where no
    string node holds text: ``_part``s hold none), or an ``<rt>``'s or ``<rp>``'s ruby strings of its own kind."""
    if node.tag in _RUBY:
        return "".join(typed.text or "" for typed in node.iter(htmltree.TYPED) if next(typed.iterancestors(*_RUBY)).tag == node.tag)
    if next(node.iter(htmltree.TYPED), None) is None and not any(raw.text for raw in node.iter(htmltree.RAW)):
        return "".join(node.itertext())
    return htmltree.get_text(node)


def _style(tag: Node) -> str:
    return unescape(str(tag.get("style") or ""))


def _image_url(img: Node) -> str:
    """The real picture: uncropped original, then the lazy source, then ``src``."""
    for name in ("data-croporisrc", "data-src", "src"):
        url = str(img.get(name) or "").strip()
        if url and not url.startswith("data:"):
            return unescape(url)
    return ""


def remove_scaffolding(cleaner: Cleaner) -> None:
    """Scripts, styles, editor settings, cards and hidden elements go (no CSS or JS may leak)."""
    root = cleaner.root
    for tag in list(root.iter(*SCAFFOLDING)):
        _replace(tag)
    for tag in [t for t in _elements(root) if any(c in SCAFFOLDING_CLASSES for c in _classes(t))]:
        _replace(tag)
    for tag in [t for t in _elements(root) if t.get("style") and _HIDDEN.search(t.get("style"))]:
        _replace(tag)


def fix_images(cleaner: Cleaner) -> None:
    """Lazy images get a real ``src``; CSS background images (also lazy: ``data-lazy-bgimg``)
    become images just before their box."""
    for img in list(cleaner.root.iter("img")):
        url = _image_url(img)
        if url:
            alt = str(img.get("alt") or "").strip()
            img.attrib.clear()
            img.set("src", souplike.settable(url))
            if alt and alt not in PLACEHOLDER_ALTS:
                img.set("alt", souplike.settable(alt))
        else:
            _replace(img)
    for tag in [t for t in _elements(cleaner.root) if t.get("data-lazy-bgimg") is not None or (t.get("style") and _BACKGROUND_URL.search(_style(t)))]:
        match = _BACKGROUND_URL.search(_style(tag))
        url = str(tag.get("data-lazy-bgimg") or "").strip() or (next((g for g in match.groups() if g), "") if match else "")
        if url.strip() and not url.startswith("data:"):
            img = cleaner.new("img", src=unescape(url.strip()))
            if tag.tag in _BLOCKS:  # its own paragraph before the box, not glued to the box's text
                paragraph = cleaner.new("p")
                paragraph.append(img)
                htmltree.insert_before(tag, paragraph)
            else:
                htmltree.insert_before(tag, img)
    for image in list(cleaner.root.iter("image")):  # SVG <image href> inside editor graphics
        url = str(image.get("xlink:href") or image.get("href") or "").strip()
        svg = htmltree.ancestor(image, "svg")
        if url and not url.startswith("data:") and svg is not None:
            htmltree.insert_before(svg, cleaner.new("img", src=url))


def _code_lines(pre: Node) -> str:
    """A code block's text: one line per ``<code>`` child (WeChat's format), else the text
    with ``<br>`` as line breaks."""
    for br in list(pre.iter("br")):
        _replace(br, ["\n"])
    lines = [child for child in pre if child.tag == "code"]
    text = "\n".join(_text(line) for line in lines) if len(lines) > 1 else _text(pre)
    return text.replace("\xa0", " ")  # editors indent code with &nbsp;


def fix_code_blocks(cleaner: Cleaner) -> None:
    """``section.code-snippet__fix > ul.code-snippet__line-index + pre[data-lang] > code*`` and
    any other ``pre`` become ``<pre data-lang><code>`` with real newlines."""
    for index in [ul for ul in cleaner.root.iter("ul") if "code-snippet__line-index" in _classes(ul)]:
        _replace(index)
    for pre in list(cleaner.root.iter("pre")):
        lang = str(pre.get("data-lang") or "").strip()
        code = cleaner.new("code", _code_lines(pre))
        for child in list(pre):
            pre.remove(child)
        pre.text = None
        pre.attrib.clear()
        if lang:
            pre.set("data-lang", souplike.settable(lang))
        pre.append(code)


def fix_formulas(cleaner: Cleaner) -> None:
    """``data-formula`` LaTeX becomes literal Markdown: ``$…$`` inline, ``$$…$$`` as a block."""
    for node in [t for t in _elements(cleaner.root) if t.get("data-formula") is not None]:
        latex = unescape(str(node.get("data-formula"))).strip()
        if not latex:
            _replace(node)
            continue
        block = "block" in str(node.get("data-formula-type") or "")
        _replace(node, [cleaner.new("div" if block else "span", latex, **literal.attrs(literal.math(latex, block)))])


def fix_embeds(cleaner: Cleaner) -> None:
    """Audio, video and music players become links to their media."""
    root = cleaner.root
    for voice in list(root.iter("mpvoice", "mp-common-mpaudio")):
        fileid = voice.get("voice_encode_fileid") or voice.get("data-voice_encode_fileid")
        name = unescape(unescape(str(voice.get("name") or ""))).replace("\xa0", " ").strip()
        if fileid:
            cleaner.link_block(voice, f"音频：{name}" if name else "音频", VOICE_URL.format(fileid))
        else:
            _replace(voice)
    for music in list(root.iter("qqmusic")):
        mid = music.get("mid") or music.get("musicid")
        name = " - ".join(str(music.get(key)).strip() for key in ("music_name", "singer") if music.get(key))
        if mid:
            cleaner.link_block(music, f"音乐：{name}" if name else "音乐", MUSIC_URL.format(mid))
        else:
            _replace(music)
    for frame in list(root.iter("iframe")):
        url = unescape(str(frame.get("data-src") or frame.get("src") or "")).strip()
        if "video_iframe" in _classes(frame) and url:
            vid = re.search(r"[?&]vid=([A-Za-z0-9]+)", url)
            cleaner.link_block(frame, "视频", VIDEO_URL.format(vid.group(1)) if vid else url)
        else:
            _replace(frame)  # votes, ads, mini-program frames: nothing to read here
    for video in list(root.iter("mpvideo", "mp-video")):
        url = str(video.get("data-src") or video.get("src") or "").strip()
        if url:
            cleaner.link_block(video, "视频", url)
        else:
            _replace(video)


def unwrap_nesting(cleaner: Cleaner) -> None:
    """Editor ``section``/``div``/``p`` wrappers inside list items, headings, paragraphs and
    table cells only chop the text up (an empty bullet, a heading split in two, a table row
    broken across lines); unwrap them there,
    ending each with a line break so separate lines stay separate."""
    root = cleaner.root
    for container in list(root.iter(*_LINE_CONTAINERS)):
        for inner in [node for node in container.iter(*_NESTING) if node is not container]:
            if inner.getparent() is None:
                continue
            if any(c.tag in ("ul", "ol", "table", "pre", "blockquote") for c in inner):
                continue
            if container.tag not in _HEADINGS and _text(inner).strip() and _followed_by_content(inner):
                inner.append(cleaner.new("br"))
            _unwrap(inner)
    for container in list(root.iter(*_LINE_CONTAINERS)):
        _strip_trailing_breaks(container)


def _followed_by_content(tag: Node) -> bool:
    after: list[Piece] = [(tag, "tail")] if tag.tail else []
    for sibling in tag.itersiblings():
        if not _is_part(sibling):
            after.append(sibling)
        if sibling.tail:
            after.append((sibling, "tail"))
    return any(not _is_string(piece) or _value(piece).strip() for piece in after)


def _strip_trailing_breaks(tag: Node) -> None:
    children = [c for c in _children(tag) if not (_is_string(c) and not _value(c).strip())]
    while children and not isinstance(children[-1], tuple) and children[-1].tag == "br":
        _replace(children.pop())


def drop_empty(cleaner: Cleaner) -> None:
    """Editors leave empty bold runs and blank paragraphs (``<p><strong><br></strong></p>``)
    as spacers, which Markdown would show as stray ``**``; unwrap and drop them. Headings
    lose the spaces at their edges (``##  标题``). Bold runs with spaces inside their edges
    are pipelines.emphasis's business, as for any source."""
    root = cleaner.root
    for tag in list(root.iter(*_INLINE_EMPHASIS)):
        if not _text(tag).strip() and htmltree.first(tag, _CONTENT_ELEMENTS) is None:
            _unwrap(tag)
    for heading in list(root.iter(*_HEADINGS)):
        _trim_edges(heading)
    for tag in list(root.iter("p", "section", "div", "li", "blockquote", *_HEADINGS)):
        if not _text(tag).strip() and htmltree.first(tag, _CONTENT_ELEMENTS) is None:
            _replace(tag)


def _strings(tag: Node) -> list[Piece]:
    return [piece for piece in _descendants(tag) if _is_string(piece)]


def _trim_edges(tag: Node) -> None:
    """Strip spaces at the start of ``tag``'s first string and the end of its last (comments count)."""
    strings = _strings(tag)
    if strings and _value(strings[0])[:1].isspace():
        _set_string(strings[0], _value(strings[0]).lstrip())
    strings = _strings(tag)
    if strings and _value(strings[-1])[-1:].isspace():
        _set_string(strings[-1], _value(strings[-1]).rstrip())


def _text_runs(root: Node) -> list[list[Piece]]:
    """Runs of inline content between block boundaries, in document order: the "lines"
    a reader sees, whether a paragraph or text loose in an editor ``section``."""
    order = {piece: at for at, piece in enumerate(_descendants(root))}
    runs: list[list[Piece]] = []
    for block in root.iter(*_BLOCKS):
        run: list[Piece] = []
        for child in _children(block):
            if not isinstance(child, tuple) and child.tag in _BLOCKS:
                runs.append(run)
                run = []
            else:
                run.append(child)
        runs.append(run)
    runs = [run for run in runs if _run_text(run)]
    return sorted(runs, key=lambda run: order[run[0]])


def _piece_text(piece: Piece) -> str:
    """``get_text()`` of a piece: a string's own text; none of a comment's or a string node's."""
    if isinstance(piece, tuple):
        return _value(piece)
    return _text(piece) if htmltree.is_tag(piece) else ""


def _run_text(run: list[Piece]) -> str:
    return re.sub(r"\s+", " ", "".join(_piece_text(piece) for piece in run)).strip()


def remove_junk(cleaner: Cleaner) -> None:
    """Apply the account's junk rules (see ``JunkRules``); with no rules nothing is removed."""
    rules, root = cleaner.rules, cleaner.root
    if rules.images:
        images = [re.compile(p) for p in rules.images]
        for img in list(root.iter("img")):
            if any(p.search(str(img.get("src") or "")) for p in images):
                _replace(img)
    if rules.trailer:
        trailer = [re.compile(p) for p in rules.trailer]
        start = next((run for run in _text_runs(root) if any(p.fullmatch(_run_text(run)) for p in trailer)), None)
        if start is not None:
            _remove_from(start[0])
    if rules.blocks:
        blocks = [re.compile(p) for p in rules.blocks]
        for run in _text_runs(root):
            if any(p.fullmatch(_run_text(run)) for p in blocks):
                for piece in sorted(run, key=lambda piece: not isinstance(piece, tuple)):  # strings first: the
                    _extract(piece)  # tails of the run's elements are its own strings, not to be moved


def _removable(piece: Piece) -> bool:
    """Whether ``_remove_from`` goes on above ``piece`` (not the body, the content or the document)."""
    if isinstance(piece, tuple):
        return True
    return piece.tag not in ("body", souplike.DOCUMENT) and not (htmltree.is_tag(piece) and piece.get("id") == "js_content")


def _remove_from(start: Piece) -> None:
    """Remove ``start`` and everything after it in document order."""
    node: Piece | None = start
    while node is not None and _removable(node):
        if isinstance(node, tuple):
            owner, kind = node
            parent = owner if kind == "text" else owner.getparent()
            following = list(owner) if kind == "text" else list(owner.itersiblings())
            setattr(owner, kind, None)
        else:
            parent = node.getparent()
            following = list(node.itersiblings())
            node.tail = None
            if node is start and parent is not None:
                parent.remove(node)
        for sibling in following:
            parent.remove(sibling)
        node = parent


def clean_content(content_html: str, rules: JunkRules | None = None) -> str:
    """The inner HTML of ``#js_content`` (or the element itself) as plain article HTML."""
    return clean_body(content_html, rules)[0]


def clean_body(content_html: str, rules: JunkRules | None = None) -> tuple[str, bool]:
    """``clean_content``, and whether the result holds any text (``get_text(strip=True)`` of the
    cleaned tree: what parsing the result again would say, without doing it)."""
    root = souplike.document(content_html)  # the tree BeautifulSoup(content_html, "lxml") builds, as lxml's
    _hold_repaired(root)
    cleaner = Cleaner(root, rules or JunkRules())
    remove_scaffolding(cleaner)
    fix_embeds(cleaner)
    fix_formulas(cleaner)
    fix_code_blocks(cleaner)
    fix_images(cleaner)
    remove_junk(cleaner)
    drop_empty(cleaner)
    unwrap_nesting(cleaner)
    top = next((node for node in _elements(root) if node.get("id") == "js_content"), None)
    if top is None:
        top = next(root.iter("body"), None)
    if top is not None:
        return souplike.inner_html(top), bool(_text(top).strip())
    # no body: the whole document, which lxml's tree has as its <html> (a copied one under ``DOCUMENT``)
    html = souplike.inner_html(root) if root.tag == souplike.DOCUMENT else souplike.outer_html(root)
    return html, bool(_text(root).strip())
