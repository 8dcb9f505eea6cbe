"""WeChat official-account article pages (mp.weixin.qq.com): what a page is, and its article.

Facts this relies on (``shared/notes/wechat-pages.md``): the server HTML leaves
``<title>`` and ``#publish_time`` empty and carries the metadata in JS variables
(``var msg_title = '…'.html(false)``, ``var nickname = htmlDecode("…")``,
``window.ct = '…' || ''``, ``title: JsDecode('…')``), HTML-escaped; one URL can
answer a normal article, a share of another article, an image or text share,
an error page (deleted, violation, unavailable, expired) or the anti-crawl
verification page, all with HTTP 200. Every response is classified first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property
from html import escape, unescape
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup
from lxml import etree
from w3lib.encoding import html_to_unicode

from crawler.savedpage import GZIP_MAGIC, SavedPage, body_encoding, decode_saved, is_utf8
from crawler.sources import SourceError, wechat_page
from crawler.sources.wechat_clean import clean_body, junk_rules
from crawler.sources.wechat_url import WECHAT_HOST, article_identity, canonical_url
from pipelines.archive import RawSource
from pipelines.article import Article, Attribution
from pipelines.limits import TooDeep, check_depth, check_tree_depth

if TYPE_CHECKING:  # not imported at run time: parse workers need no Scrapy
    from scrapy.settings import BaseSettings

SOURCE = "wechat"
#: Namespace of WeChat identities in aliases, shared with other sources' republish links.
ALIAS_PREFIX = "wechat:"
#: Attached to every WeChat article: the piece is someone else's, republished with credit.
DISCLAIMER = "本文转载自微信公众号，版权归原作者所有。如有侵权，请联系删除。"
#: Headers of a browser arriving from WeChat itself.
HEADERS = {
    "Referer": f"https://{WECHAT_HOST}/",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "zh-CN,zh;q=0.9",
}

# Page kinds that give an article (``Page.kind``).
NORMAL = "normal"
SHARE = "share"  #: a share of another article: follow ``Page.share_url``
IMAGE_SHARE = "image-share"  #: item_show_type 8
TEXT_SHARE = "text-share"  #: item_show_type 10
#: Characters of a text share's first line kept as its title (``TEXT_SHARE_TITLE_LENGTH``), then ``…``.
TITLE_LENGTH = 64
ELLIPSIS = "…"
# SourceError reasons of pages that give none.
ANTI_CRAWL = "anti-crawl"
DELETED = "deleted"
VIOLATION = "violation"
UNAVAILABLE = "unavailable"
EXPIRED = "expired"

#: item_show_type values whose article lives in the page's JS data, not in #js_content
SHARE_TYPES = {"8": IMAGE_SHARE, "10": TEXT_SHARE}
CAPTCHA_PATH = "/mp/wappoc_appmsgcaptcha"
_ANTI_CRAWL_TEXTS = (("环境异常", "完成验证后即可继续访问"), ("操作频繁，请稍后再试",), ("访问过于频繁",))
#: ``.weui-msg__title`` wording → reason; violation before "无法查看", which it also contains.
_ERROR_TITLES = (
    (DELETED, re.compile(r"删除|deleted", re.I)),
    (VIOLATION, re.compile(r"违规|投诉|violat", re.I)),
    (EXPIRED, re.compile(r"过期|expired", re.I)),
    (UNAVAILABLE, re.compile(r"暂时无法查看|无法查看|unavailable|cannot be viewed", re.I)),
)
_CHINA = timezone(timedelta(hours=8))
#: A page's printed date: ``2018-03-19`` (2018 template) or ``2025年11月10日 12:00`` (as a browser saves it)
_DAY = re.compile(r"(\d{4})[-年/](\d{1,2})[-月/](\d{1,2})日?(?:\s+(\d{1,2}):(\d{2}))?")
#: A JS string literal on one line (the unrolled form of ``"(?:[^"\\\n]|\\.)*"``: the same matches, but
#: runs of plain characters are read in one step, not one alternation per character).
_STRING = r"\"[^\"\\\n]*(?:\\.[^\"\\\n]*)*\"|'[^'\\\n]*(?:\\.[^'\\\n]*)*'"
_JS_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.)", re.S)
_JS_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def _js_unescape(literal: str) -> str:
    """A JS string literal's value (quotes included in ``literal``)."""

    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] in "xu" and len(code) > 1:
            return chr(int(code[1:], 16))
        return _JS_SIMPLE.get(code, code)

    return _JS_ESCAPE.sub(one, literal[1:-1])


#: What ``\s`` matches in a str beyond ASCII's ``[ \t\n\r\f\v]`` (tests/test_wechat_jsvars.py checks every code point).
STR_ONLY_SPACES = ("\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
                   "\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def _utf8_class(chars: str) -> str:
    """A bytes pattern (``\\xNN`` escapes) matching the UTF-8 of any one of ``chars``: the ASCII ones
    in one class, the others grouped by all but their last byte (a few quick branches, not one per character)."""
    ascii_bytes = [ord(char) for char in chars if char.isascii()]
    tails: dict[bytes, list[int]] = {}
    for char in chars:
        if not char.isascii():
            encoded = char.encode()
            tails.setdefault(encoded[:-1], []).append(encoded[-1])

    def escaped(data: Iterable[int]) -> str:
        return "".join(f"\\x{byte:02x}" for byte in data)

    branches = [f"[{escaped(ascii_bytes)}]"] + [f"{escaped(head)}[{escaped(last)}]" for head, last in tails.items()]
    return "(?:" + "|".join(branches) + ")"


#: ``\s`` of a str pattern, for UTF-8 bytes.
_UTF8_SPACE = _utf8_class(" \t\n\r\f\v" + STR_ONLY_SPACES)


def _assignment(space: str) -> str:
    """``var name = <alternatives>`` / ``window.name = …``: string literals (maybe wrapped) or names,
    joined by ``||``; ``space``: the pattern of one space."""
    alt = rf"(?:(?:htmlDecode|JsDecode)\({space}*(?:{_STRING}){space}*\)|{_STRING}|[A-Za-z_$][\w$.]*)"
    return rf"(?:\bvar{space}+|\bwindow\.)([A-Za-z_$][\w$]*){space}*=(?!=){space}*\(?{space}*({alt}(?:{space}*\|\|{space}*{alt})*)"


# Each script is scanned as UTF-8 bytes (``wechat_page.normalize`` gives them): a regex scan of a
# 3 MB page's scripts costs ~2.7 ms as str (its largest script is UCS-2), ~1.5 ms as bytes. Byte
# patterns read valid UTF-8 as the str patterns read its text but for what a str pattern knows of
# Unicode: ``\s`` (written out: ``_UTF8_SPACE``), ``\w`` and ``\b`` (non-ASCII letters). Where a
# non-ASCII character meets a name, it is decoded and asked (``_char_before``), or the assignment
# is read from the text (``_UNSURE``).
#: The str pattern, read from the text where the bytes cannot tell.
_ASSIGNMENT_TEXT = re.compile(_assignment(r"\s"))
_ASSIGNMENT = re.compile(_assignment(_UTF8_SPACE).encode())
_STRINGS = re.compile(_STRING.encode())
#: A name's end next to a non-ASCII character (outside string literals): a str ``\w`` may take it.
_UNSURE = re.compile(rb"[\w$.][\x80-\xff]")
#: The value of a ``name: JsDecode('…')`` or ``name: '…' * 1`` member of the page's data objects, after the name.
_MEMBER_VALUE = re.compile(rf"{_UTF8_SPACE}*:{_UTF8_SPACE}*(?:JsDecode\({_UTF8_SPACE}*({_STRING}){_UTF8_SPACE}*\)|({_STRING}){_UTF8_SPACE}*\*{_UTF8_SPACE}*1)".encode())
_WORD = re.compile(r"\w")
_MEMBER_BEFORE = re.compile(r"[\s,{]")
_MEMBER_BEFORE_ASCII = bytes(byte for byte in range(0x80) if _MEMBER_BEFORE.match(chr(byte)))
_NAME_START = re.compile(r"[A-Za-z_$]")


#: The variables the source reads (``JsVars.get``): only assignments to these are looked for.
ASSIGNED_NAMES = (
    "item_show_type", "ct", "create_time", "oriCreateTime", "publish_time", "msg_link", "biz", "mid", "idx", "sn",
    "msg_title", "nickname", "author", "msg_cdn_url", "msg_desc", "user_name", "TextContentNoEncode", "ContentNoEncode",
)
#: ``ASSIGNED_NAMES`` as one alternation per first letter: at each of a page's ~7,000 ``var`` the
#: engine tries one or two, not eighteen (no name starts another, so their order does not matter).
_NAMES = "|".join(
    first + "(?:" + "|".join(name[1:] for name in ASSIGNED_NAMES if name[0] == first) + ")"
    for first in dict.fromkeys(name[0] for name in ASSIGNED_NAMES)
)
#: Where an assignment to one of ``ASSIGNED_NAMES`` can start. Each pattern starts with a literal,
#: which the regex engine skips to quickly; one alternation of both costs several times more.
_ASSIGNMENT_STARTS = tuple(re.compile(rf"{start}(?:{_NAMES}){_UTF8_SPACE}*=".encode()) for start in (rf"var{_UTF8_SPACE}+", r"window\."))
#: What a member's value starts or ends with: found first, its name is then read backwards
#: (``*`` is rare enough in scripts to be found by ``bytes.find``, far quicker than a regex scan).
_JS_DECODE = re.compile(rb"JsDecode\(")
_TIMES_ONE = re.compile(rf"\*{_UTF8_SPACE}*1".encode())


def _char_before(data: bytes, end: int) -> tuple[int, str]:
    """The character of valid UTF-8 ``data`` that ends at ``end`` (> 0): where it starts, and it."""
    start = end - 1
    while data[start] & 0xC0 == 0x80:  # a continuation byte
        start -= 1
    return start, data[start:end].decode()


def _is_name_char(char: str) -> bool:
    return char.isalnum() or char in "_$"


#: The ASCII bytes ``str.isspace`` and ``_is_name_char`` take (from the predicates: the same choice).
_ASCII_SPACES = bytes(byte for byte in range(0x80) if chr(byte).isspace())
_ASCII_NAME_CHARS = bytes(byte for byte in range(0x80) if _is_name_char(chr(byte)))


def _back_over(data: bytes, end: int, ascii_taken: bytes, takes: Callable[[str], bool]) -> int:
    """The start of the run of characters ``takes`` accepts that ends at ``end``: ASCII ones
    (``ascii_taken``) stripped by ``bytes.rstrip`` a window at a time, others decoded one by one."""
    while True:
        window = end - 64 if end > 64 else 0
        end = window + len(data[window:end].rstrip(ascii_taken))
        if end == window and window:
            continue  # the whole window taken: on to the one before
        if not end or data[end - 1] < 0x80:
            return end
        start, char = _char_before(data, end)
        if not takes(char):
            return end
        end = start


def _back_over_space(data: bytes, end: int) -> int:
    return _back_over(data, end, _ASCII_SPACES, str.isspace)


def _opening_quote(data: bytes, close: int) -> int:
    """Where the string literal whose closing quote is at ``close`` opens: the nearest earlier
    same quote not escaped (an even run of backslashes before it); -1 if none."""
    quote = data[close:close + 1]
    at = data.rfind(quote, 0, close)
    while at >= 0:
        slashes = 0
        while at - slashes > 0 and data[at - slashes - 1] == 0x5C:  # a backslash
            slashes += 1
        if slashes % 2 == 0:
            return at
        at = data.rfind(quote, 0, at)
    return -1


def _member_name(data: bytes, value: int) -> tuple[int, int, int] | None:
    """The name of the member whose value (after ``name:`` and spaces) starts at ``value``, read
    backwards (``str.isspace``, and ``str.isalnum`` with ``_`` and ``$``, are the str pattern's
    classes): where the character before it starts, and the name's start and end; None when there
    is no ``name:`` before it."""
    colon = _back_over_space(data, value)
    if colon <= 0 or data[colon - 1] != 0x3A:  # ":"
        return None
    end = _back_over_space(data, colon - 1)
    start = _back_over(data, end, _ASCII_NAME_CHARS, _is_name_char)
    if not 0 < start < end:
        return None
    return (start - 1 if data[start - 1] < 0x80 else _char_before(data, start)[0]), start, end


class _Script:
    """One script's UTF-8, and what it assigns and holds as members."""

    def __init__(self, data: bytes):
        self.data = data
        self.assignments: list[tuple[str, list[str]]] = []  #: (name, its string literals), in order
        self.members: list[tuple[str, str]] = []  #: (name, its string literal), in order
        members: dict[int, tuple[int, int]] = {}  # start (the character before the name) → the name's
        for match in _JS_DECODE.finditer(data):
            self._member_at(members, match.start())
        star = data.find(b"*")
        while star >= 0:
            if match := _TIMES_ONE.match(data, star):
                close = _back_over_space(data, star) - 1
                if close > 0 and data[close] in b"\"'" and (opening := _opening_quote(data, close)) >= 0:
                    self._member_at(members, opening)
            star = data.find(b"*", match.end() if match else star + 1)
        self._read_assignments(sorted({match.start() for pattern in _ASSIGNMENT_STARTS for match in pattern.finditer(data)}))
        self._read_members(members)

    def _member_at(self, members: dict[int, tuple[int, int]], value: int) -> None:
        if name := _member_name(self.data, value):
            members[name[0]] = name[1:]

    def _read_assignments(self, starts: list[int]) -> None:
        """``var name = …`` at ``starts`` (ascending), each not overlapping an earlier one."""
        data, end = self.data, 0
        for start in starts:
            if start < end or (start and data[start - 1] >= 0x80 and _WORD.match(_char_before(data, start)[1])):
                continue  # overlapped, or a non-ASCII letter before: no ``\b``
            match = _ASSIGNMENT.match(data, start)
            if match is None:
                continue
            if _UNSURE.search(_STRINGS.sub(b" ", data[match.start(2):match.end() + 1])):
                end = self._read_assignment_from_text(start)
            else:
                end = match.end()
                self.assignments.append((match.group(1).decode(), [s.decode() for s in _STRINGS.findall(match.group(2))]))

    def _read_assignment_from_text(self, start: int) -> int:
        """The assignment at ``start`` read from the text (a non-ASCII letter may continue a name
        where the bytes stopped); where it ends in the bytes."""
        text = self.data[start:].decode()
        match = _ASSIGNMENT_TEXT.match(text)
        # The same pattern matched the bytes, and reads them alike up to a name's end: it matches.
        # (``\b`` at 0 of ``text`` sees no character before it: the caller checked that one.)
        assert match is not None
        self.assignments.append((match.group(1), re.findall(_STRING, match.group(2))))
        return start + len(text[:match.end()].encode())

    def _read_members(self, members: dict[int, tuple[int, int]]) -> None:
        """``name: JsDecode('…')`` / ``name: '…' * 1`` at the starts of ``members`` (ascending), each
        not overlapping an earlier one."""
        data, end = self.data, 0
        for start in sorted(members):
            name_start, name_end = members[start]
            if start < end or not (data[start] in _MEMBER_BEFORE_ASCII or _MEMBER_BEFORE.match(data[start:name_start].decode())):
                continue
            name = data[name_start:name_end].decode()
            if _NAME_START.match(name) and (match := _MEMBER_VALUE.match(data, name_end)):
                end = match.end()
                self.members.append((name, (match.group(1) or match.group(2)).decode()))


class JsVars:
    """The string values a page's scripts assign, read once per page (``scripts``: their UTF-8).

    ``get(name)``: the first non-empty value of ``var name = …`` or ``window.name = …`` (``name``
    one of ``ASSIGNED_NAMES``) whose right side is string literals (``'a' || 'b'``, ``htmlDecode("…")``,
    ``'…'.html(false)``, ``"1" * 1``); ``member(name)``: of ``name: JsDecode('…')`` or ``name: '…' * 1``.
    Values are JS-unescaped, then HTML-unescaped. Each script is searched on its own.
    """

    def __init__(self, scripts: Iterable[bytes]):
        #: name → its string literals, in order; unescaped only when asked for (a text share's
        #: ``content_noencode`` is the whole article)
        self.assigned: dict[str, list[str]] = {}
        self.members: dict[str, list[str]] = {}
        for data in scripts:
            script = _Script(data)
            for name, literals in script.assignments:
                self.assigned.setdefault(name, []).extend(literals)
            for name, literal in script.members:
                self.members.setdefault(name, []).append(literal)
        self._values: dict[tuple[bool, str], str] = {}

    def _value(self, store: dict[str, list[str]], name: str) -> str:
        """The first literal of ``name`` that is not empty once unescaped and trimmed."""
        key = (store is self.members, name)
        if key not in self._values:
            values = (unescape(_js_unescape(literal)).strip() for literal in store.get(name, ()))
            self._values[key] = next((value for value in values if value), "")
        return self._values[key]

    def get(self, name: str) -> str:
        if name not in ASSIGNED_NAMES:  # never looked for: it would read as missing on every page
            raise KeyError(f"{name!r} is not in ASSIGNED_NAMES")
        return self._value(self.assigned, name)

    def member(self, name: str) -> str:
        return self._value(self.members, name)


def _js_list_urls(scripts: Iterable[str], name: str, key: str = "cdn_url") -> list[str]:
    """``key`` of each item of ``window.<name> = [{…}, …]`` or of a ``<name>: [{…}, …]`` member
    (not of objects nested in the items), in the first script naming one."""
    pattern = re.compile(rf"(?:\bvar\s+|\bwindow\.|[\s,{{]){re.escape(name)}\s*[=:]\s*\[")
    html, start = next(((text, found) for text in scripts if (found := pattern.search(text))), ("", None))
    if not start:
        return []
    urls: list[str] = []
    depth = 1
    token = re.compile(rf"{_STRING}|[\[\]{{}}]|\b{re.escape(key)}\s*:\s*(?:JsDecode\(\s*)?({_STRING})")
    for match in token.finditer(html, start.end()):
        text = match.group()
        if text in "[{":
            depth += 1
        elif text in "]}":
            depth -= 1
            if depth == 0:
                break
        elif match.group(1) and depth == 2:
            urls.append(unescape(_js_unescape(match.group(1))))
    return [url for url in urls if url]


@dataclass
class Page:
    """A classified article page, parsed once (``wechat_page``). ``kind`` is NORMAL, SHARE,
    IMAGE_SHARE or TEXT_SHARE."""

    kind: str
    root: etree._Element  #: the page's tree
    url: str  #: where it was fetched (after redirects)
    scripts: list[bytes]  #: the UTF-8 of its scripts' texts, in document order (``wechat_page.normalize``)
    share_url: str = ""  #: for SHARE: the original article

    @cached_property
    def vars(self) -> JsVars:
        return JsVars(self.scripts)

    @cached_property
    def content(self) -> etree._Element | None:
        return wechat_page.by_id(self.root, "js_content")


def _anti_crawl_target(url: str) -> str:
    return parse_qs(urlsplit(url).query).get("target_url", [""])[0]


def is_anti_crawl(html: str | bytes, url: str = "") -> bool:
    """The verification page WeChat answers instead of articles when it suspects a crawler. ``html``:
    the page's text, or the UTF-8 bytes it decodes from: a string is in the text when its UTF-8 is in
    the bytes (a decoder replaces an invalid byte without taking the character after it), valid or not."""
    if urlsplit(url).path.startswith(CAPTCHA_PATH):
        return True

    def holds(text: str) -> bool:
        return (text.encode() if isinstance(html, bytes) else text) in html

    if holds('id="js_article"') or holds('id="js_content"'):
        return False
    return holds('id="js_verify"') or any(all(holds(t) for t in texts) for texts in _ANTI_CRAWL_TEXTS)


def _error_state(root: etree._Element) -> tuple[str, str] | None:
    """(reason, detail) of an error page (``.weui-msg__title`` or ``.mesg-block``), None for anything else."""
    message = wechat_page.by_class(root, "weui-msg__title")
    if message is None:
        message = wechat_page.by_class(root, "mesg-block")
    if message is None:
        return None
    title = wechat_page.by_tag(root, "title")
    text = wechat_page.text(message) or (wechat_page.text(title) if title is not None else "")
    desc = wechat_page.by_class(root, "weui-msg__desc")
    detail = f"{text} ({wechat_page.text(desc)})" if desc is not None and wechat_page.text(desc) else text
    return next((reason for reason, pattern in _ERROR_TITLES if pattern.search(text)), "error-page"), detail


def classify(html: str, url: str = "") -> Page:
    """What the page is; a SourceError naming the state for pages that hold no article."""
    _check_anti_crawl(html, url)
    try:
        check_depth(html)  # before parsing: deep nesting costs minutes in every later stage
    except TooDeep as exc:
        raise SourceError(exc.reason, str(exc)) from None
    root = wechat_page.tree(html)
    return _classified(Page(NORMAL, root, url, wechat_page.normalize(root)))


def classify_utf8(data: bytes, url: str = "") -> Page | None:
    """``classify`` of the text ``data`` decodes to (UTF-8), read from the bytes: the text of a
    3 MB page is never built. None when libxml2 found the bytes no valid UTF-8: ``classify`` then
    reads the text, as the parse of those bytes would differ from the text's."""
    _check_anti_crawl(data, url)
    root = wechat_page.tree_utf8(data)  # libxml2's tree alone: deep nesting costs nothing yet
    if root is None:
        return None
    try:
        check_tree_depth(root)  # before anything walks the tree
    except TooDeep as exc:
        raise SourceError(exc.reason, str(exc)) from None
    return _classified(Page(NORMAL, root, url, wechat_page.normalize(root)))


def _check_anti_crawl(html: str | bytes, url: str) -> None:
    if is_anti_crawl(html, url):
        target = _anti_crawl_target(url)
        raise SourceError(ANTI_CRAWL, "verification page (环境异常)" + (f" for {target}" if target else ""))


def _classified(page: Page) -> Page:
    """The kind of a NORMAL page just parsed."""
    show_type = page.vars.get("item_show_type") or page.vars.member("item_show_type")
    if show_type in SHARE_TYPES:
        page.kind = SHARE_TYPES[show_type]
        return page
    content = page.content
    if content is None:
        state = _error_state(page.root)
        if state:
            raise SourceError(*state)
        raise SourceError("not-an-article", f"no #js_content (item_show_type {show_type or 'unknown'})")
    share = wechat_page.by_id(page.root, "js_share_source")
    if share is not None and share.get("data-url") and not _has_content(content):
        page.kind = SHARE
        page.share_url = unescape(share.get("data-url", "")).strip()
    return page


def _has_content(content: etree._Element) -> bool:
    return wechat_page.has_text(content) or wechat_page.has_descendant(content, ("img", "mpvoice", "mp-common-mpaudio", "iframe"))


@dataclass
class Metadata:
    title: str
    account: str
    author: str
    published: int  #: unix seconds
    cover: str
    description: str
    url: str  #: canonical URL, reduced to the article's identity
    #: every WeChat identity the page names (canonical first), e.g. short token and __biz/mid/idx
    identities: list[str] = field(default_factory=list)
    account_keys: list[str] = field(default_factory=list)  #: names junk rules may be keyed by


def _meta(root: etree._Element, prop: str) -> str:
    return unescape(wechat_page.meta(root, prop)).strip()


def _first(*values: str) -> str:
    return next((value for value in values if value), "")


def _tag_text(root: etree._Element, selector: str, drop: Iterable[str] = ()) -> str:
    """The text of the first ``#id`` or tag ``selector`` names."""
    tag = wechat_page.by_id(root, selector[1:]) if selector.startswith("#") else wechat_page.by_tag(root, selector)
    if tag is None:
        return ""
    text = wechat_page.text(tag)
    for word in drop:
        text = text.replace(word, "").strip()
    return text


def _timestamp(page: Page) -> int:
    js = page.vars
    for value in (js.get("ct"), js.get("create_time"), js.get("oriCreateTime"), js.member("ori_create_time")):
        if value.isdigit() and int(value) > 0:
            return int(value)
    day = _first(js.get("publish_time"), _tag_text(page.root, "#publish_time"), _tag_text(page.root, "#post-date"))
    match = _DAY.fullmatch(day)
    if match:
        y, m, d, hh, mm = (int(g) if g else 0 for g in match.groups())
        return int(datetime(y, m, d, hh, mm, tzinfo=_CHINA).timestamp())
    raise SourceError("missing-time", "page has no ct, create_time or publish date")


def _page_link(page: Page) -> str:
    """The page's own URL for itself: msg_link, then og:url, then one built from biz/mid/idx/sn."""
    for candidate in (page.vars.get("msg_link"), page.vars.member("link"), _meta(page.root, "og:url")):
        if candidate and article_identity(candidate):
            return candidate
    return _biz_link(page.vars)


def _biz_link(js: JsVars) -> str:
    biz, mid, idx, sn = (js.get(name) or js.member(name) for name in ("biz", "mid", "idx", "sn"))
    if not (biz and mid.isdigit() and idx.isdigit()):
        return ""
    return canonical_url(f"https://{WECHAT_HOST}/s?__biz={biz}&mid={mid}&idx={idx}" + (f"&sn={sn}" if sn else ""))


def share_title(text: str, length: int = TITLE_LENGTH) -> str:
    """A text share's title: the first line of its text holding any, cut to ``length`` characters
    plus ``…`` when longer (the full text stays in the body)."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    line = re.sub(r"\s+", " ", line)
    return line if len(line) <= length else line[:length].rstrip() + ELLIPSIS


def metadata(page: Page, title_length: int = TITLE_LENGTH) -> Metadata:
    """Title, account, author, time, cover, description and canonical URL, with the notes' fallbacks;
    ``title_length``: where a text share's title (its first line) is cut."""
    js, root = page.vars, page.root
    link = _page_link(page)
    if not link:
        raise SourceError("missing-url", "page names no canonical URL (msg_link, og:url, biz/mid/idx)")
    url = canonical_url(link)
    long_identity = article_identity(_biz_link(js))
    identities = [i for i in dict.fromkeys([article_identity(url), long_identity]) if i]
    if not identities:
        raise SourceError("bad-id", f"page's own URL {url!r} names no WeChat identity (s_<token> or <biz>_<mid>_<idx>)")
    title = _first(
        js.get("msg_title"), js.member("title"), _meta(root, "og:title"),
        _tag_text(root, "#activity-name", drop=("已付费",)), _tag_text(root, "title"),
    )
    if page.kind == TEXT_SHARE:  # no title of its own: the page's title fields hold the whole post, if anything
        title = share_title(_first(_share_text(js), title), title_length)
    if not title:
        raise SourceError("missing-title", f"{url} has no title")
    account = _first(js.get("nickname"), js.member("nick_name"), _tag_text(root, "#js_name"), _tag_text(root, "#post-user"))
    return Metadata(
        title=title,
        account=account,
        author=_first(js.get("author"), js.member("author"), _meta(root, "author")),
        published=_timestamp(page),
        cover=_first(js.get("msg_cdn_url"), js.member("cdn_url"), _meta(root, "og:image")),
        description=_first(js.get("msg_desc"), js.member("desc"), _meta(root, "og:description")),
        url=url,
        identities=identities,
        account_keys=[account, js.get("biz"), long_identity.split("_")[0] if long_identity else "", js.get("user_name") or js.member("user_name")],
    )


def _share_text(js: JsVars) -> str:
    """The text of an image or text share."""
    return _first(js.get("TextContentNoEncode"), js.member("content_noencode"), js.get("ContentNoEncode"), js.member("desc"))


def _text_html(text: str) -> str:
    """Plain text with blank-line paragraphs and line breaks, as HTML."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.replace("\r", "")) if p.strip()]
    return "".join(f"<p>{'<br>'.join(escape(line) for line in p.split(chr(10)))}</p>" for p in paragraphs)


def body_html(page: Page, junk: Mapping[str, Mapping[str, Iterable[str]]], account_keys: list[str]) -> tuple[str, bool]:
    """The article body: the cleaned ``#js_content``, or a share's images and text; and whether
    it holds any text (read from the cleaned tree itself, not by parsing the body again)."""
    if page.kind in (IMAGE_SHARE, TEXT_SHARE):
        images = _js_list_urls((data.decode() for data in page.scripts), "picture_page_info_list") if page.kind == IMAGE_SHARE else []
        body = "".join(f'<p><img src="{escape(url)}"></p>' for url in images) + _text_html(_share_text(page.vars))
        return body, bool(BeautifulSoup(body, "lxml").get_text(strip=True))  # a few paragraphs made here
    content = page.content
    if content is None:
        raise SourceError("missing-content", "no #js_content")
    return clean_body(wechat_page.outer_html(content), junk_rules(junk, account_keys))


def article_from_page(
    page: Page,
    source: str = SOURCE,
    junk: Mapping[str, Mapping[str, Iterable[str]]] | None = None,
    reached_by: Iterable[str] = (),
    title_length: int = TITLE_LENGTH,
) -> Article:
    """The Article of a NORMAL, IMAGE_SHARE or TEXT_SHARE page.

    ``reached_by``: the URLs that led here (requested URL, redirects, a share page);
    their identities become aliases, so any of them finds this article again.
    ``title_length``: characters of a text share's first line kept as its title.
    """
    if page.kind == SHARE:
        raise SourceError("share", f"page shares {page.share_url}; follow it instead")
    meta = metadata(page, title_length)
    body, has_text = body_html(page, junk or {}, meta.account_keys)
    if not has_text and "<img" not in body:
        raise SourceError("missing-content", f"{meta.url} has an empty body")
    identities = dict.fromkeys([*meta.identities, *(article_identity(u) for u in (page.url, *reached_by) if u)])
    return Article(
        source=source,
        id=meta.identities[0],
        url=meta.url,
        title=meta.title,
        published=meta.published,
        body_html=body,
        cover=meta.cover,
        description=meta.description,
        attribution=Attribution(name=meta.account or "微信公众号", url=meta.url, title=meta.title),
        aliases=[f"{ALIAS_PREFIX}{identity}" for identity in identities if identity],
    )


def is_wechat_page(html: Container[str]) -> bool:
    """Whether saved HTML is a WeChat article page (or one of its error/verification pages):
    how a saved file given to a backfill is recognised from its own content. ``html``: the page's
    text, or what answers which strings it holds (``crawler.savedpage.SavedPage``, without decoding it)."""
    if WECHAT_HOST not in html:
        return False
    return any(marker in html for marker in ('id="js_content"', 'id="js_article"', "weui-msg__title", 'id="js_verify"'))


@dataclass(frozen=True)
class ReadOptions:
    """The settings reading a page depends on, as plain values a parse worker can be sent."""

    source: str  #: ``WECHAT_SOURCE_NAME``
    junk: dict[str, Any]  #: ``WECHAT_JUNK_RULES``
    title_length: int  #: ``TEXT_SHARE_TITLE_LENGTH``
    saved_limit: int  #: ``SAVED_PAGE_MAXSIZE`` (a gzipped saved page is gunzipped up to it)

    @classmethod
    def of(cls, settings: BaseSettings) -> ReadOptions:
        from crawler.inputs import saved_page_limit  # Scrapy's: the crawl's process only

        return cls(settings.get("WECHAT_SOURCE_NAME"), settings.getdict("WECHAT_JUNK_RULES"),
                   settings.getint("TEXT_SHARE_TITLE_LENGTH"), saved_page_limit(settings))


@dataclass
class PageRead:
    """What a page gave: its kind, and its Article or (for SHARE) the original it shares."""

    kind: str
    article: Article | None = None
    share_url: str = ""


def text_encoding(raw: RawSource) -> str | None:
    """The encoding the crawl's response for ``raw`` reads its text with (its charset, else the
    page's own), or None for a gzipped or non-text answer (a saved page: ``decode_saved``)."""
    from scrapy.http import TextResponse  # the crawl's process only: parse workers need no Scrapy

    from crawler.rawsource import to_response

    response = to_response(raw)
    return response.encoding if isinstance(response, TextResponse) and raw.body[:2] != GZIP_MAGIC else None


def page_text(body: bytes, encoding: str | None, saved_limit: int) -> str:
    """The page's text: as Scrapy's ``TextResponse.text`` decodes it with ``encoding``; without one,
    a saved page's (gunzipped up to ``saved_limit``, decoded as it declares)."""
    if encoding is not None:
        return html_to_unicode(f"charset={encoding}", body)[1]
    return decode_saved(body, saved_limit)


def utf8_body(body: bytes, encoding: str | None, saved_limit: int) -> bytes | None:
    """The bytes ``page_text`` decodes as UTF-8 (gunzipped, byte order mark left out), when it reads
    the page as UTF-8; None when it reads it otherwise."""
    if encoding is None:
        return SavedPage(body, saved_limit).utf8
    chosen, bom = body_encoding(body, f"charset={encoding}")
    return body[bom:] if is_utf8(chosen) else None


def read_page(body: bytes, url: str, encoding: str | None, options: ReadOptions, reached_by: list[str]) -> PageRead:
    """A page's answer read: classified, and its Article (without its raw source) unless it shares
    another. What a parse worker (``pipelines.workers``) runs for the spider; raises SourceError."""
    data = utf8_body(body, encoding, options.saved_limit)
    page = classify_utf8(data, url) if data is not None else None
    if page is None:
        page = classify(page_text(body, encoding, options.saved_limit), url)
    if page.kind == SHARE:
        return PageRead(SHARE, share_url=page.share_url)
    article = article_from_page(page, options.source, options.junk, reached_by, options.title_length)
    return PageRead(page.kind, article)


def article_from_raw(raw: RawSource, settings: BaseSettings) -> Article:
    """The Article of a page kept in the raw archive (``scrapy rerender``): read as the spider's
    worker reads it (``context["reached_by"]``: the URLs that led to the page, whose identities
    become aliases); a SourceError ``share`` for a page sharing another."""
    read = read_page(raw.body, raw.url, text_encoding(raw), ReadOptions.of(settings), raw.context.get("reached_by", []))
    if read.article is None:
        raise SourceError("share", f"page shares {read.share_url}; follow it instead")
    read.article.raw = raw
    return read.article
