"""``wechat.JsVars`` reads a page's scripts from their UTF-8 bytes exactly as the str implementation
read their text: the same ``assigned`` and ``members``, so every ``get``/``member`` value.

The oracle is the str implementation as it was (``OldJsVars`` below, copied unchanged but for its
name). Inputs: every recorded WeChat page, and GENERATED scripts mixing the pieces where a str pattern
and a bytes pattern could part: spaces only Unicode knows, non-ASCII letters (and non-letters)
next to names, ``var``, ``window.`` and member names, escaped quotes and lone backslashes,
``||`` chains across lines, ``JsDecode(`` and ``* 1`` forms, unterminated literals.
"""

from __future__ import annotations

import gzip
import re
import sys
from collections.abc import Iterable, Iterator
from html import unescape
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.sources import wechat, wechat_page

FIXTURES = Path(__file__).parent / "fixtures" / "wechat"
PAGES = sorted(FIXTURES.glob("pages/*.html.gz")) + sorted(FIXTURES.glob("fragments/*.html")) + [FIXTURES / "handmade" / "anticrawl.html"]

# --- The oracle: the str implementation (crawler/sources/wechat.py before 2026-12-03) ------------

_STRING = r"\"[^\"\\\n]*(?:\\.[^\"\\\n]*)*\"|'[^'\\\n]*(?:\\.[^'\\\n]*)*'"
_ALT = rf"(?:(?:htmlDecode|JsDecode)\(\s*(?:{_STRING})\s*\)|{_STRING}|[A-Za-z_$][\w$.]*)"
_ASSIGNMENT = re.compile(rf"(?:\bvar\s+|\bwindow\.)([A-Za-z_$][\w$]*)\s*=(?!=)\s*\(?\s*({_ALT}(?:\s*\|\|\s*{_ALT})*)")
_MEMBER = re.compile(rf"[\s,{{]([A-Za-z_$][\w$]*)\s*:\s*(?:JsDecode\(\s*({_STRING})\s*\)|({_STRING})\s*\*\s*1)")
_NAMES = "|".join(sorted(wechat.ASSIGNED_NAMES, key=len, reverse=True))
_ASSIGNMENT_STARTS = (re.compile(rf"var\s+(?:{_NAMES})\s*="), re.compile(rf"window\.(?:{_NAMES})\s*="))
_JS_DECODE = re.compile(r"JsDecode\(")
_TIMES_ONE = re.compile(r"\*\s*1")


def _matches(pattern: re.Pattern[str], text: str, starts: Iterable[int]) -> Iterator[re.Match[str]]:
    end = 0
    for start in starts:
        if start >= end and (match := pattern.match(text, start)):
            end = match.end()
            yield match


def _assignment_starts(text: str) -> list[int]:
    return sorted({match.start() for pattern in _ASSIGNMENT_STARTS for match in pattern.finditer(text)})


def _back_over_space(text: str, end: int) -> int:
    while end > 0 and text[end - 1].isspace():
        end -= 1
    return end


def _opening_quote(text: str, close: int) -> int:
    quote = text[close]
    at = text.rfind(quote, 0, close)
    while at >= 0:
        slashes = 0
        while at - slashes > 0 and text[at - slashes - 1] == "\\":
            slashes += 1
        if slashes % 2 == 0:
            return at
        at = text.rfind(quote, 0, at)
    return -1


def _member_start(text: str, value: int) -> int:
    colon = _back_over_space(text, value)
    if colon <= 0 or text[colon - 1] != ":":
        return -1
    end = _back_over_space(text, colon - 1)
    start = end
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_$"):
        start -= 1
    return start - 1 if 0 < start < end else -1


def _member_starts(text: str) -> list[int]:
    starts = {_member_start(text, match.start()) for match in _JS_DECODE.finditer(text)}
    for match in _TIMES_ONE.finditer(text):
        close = _back_over_space(text, match.start()) - 1
        if close > 0 and text[close] in "\"'" and (opening := _opening_quote(text, close)) >= 0:
            starts.add(_member_start(text, opening))
    starts.discard(-1)
    return sorted(starts)


class OldJsVars:
    def __init__(self, texts: str | Iterable[str]):
        self.assigned: dict[str, list[str]] = {}
        self.members: dict[str, list[str]] = {}
        for text in [texts] if isinstance(texts, str) else texts:
            for match in _matches(_ASSIGNMENT, text, _assignment_starts(text)):
                self.assigned.setdefault(match.group(1), []).extend(re.findall(_STRING, match.group(2)))
            for match in _matches(_MEMBER, text, _member_starts(text)):
                self.members.setdefault(match.group(1), []).append(match.group(2) or match.group(3))


#: The full scan the oracle's starts stand for (tests/test_fast_paths.py until 2026-12-03): an
#: assignment to a name the source reads, and every member, found by one plain ``finditer``.
WANTED_ASSIGNMENT = re.compile(_ASSIGNMENT.pattern.replace("([A-Za-z_$][\\w$]*)", f"({_NAMES})", 1))


def full_scan(texts: list[str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    assigned: dict[str, list[str]] = {}
    members: dict[str, list[str]] = {}
    for text in texts:
        for match in WANTED_ASSIGNMENT.finditer(text):
            assigned.setdefault(match.group(1), []).extend(re.findall(_STRING, match.group(2)))
        for match in _MEMBER.finditer(text):
            members.setdefault(match.group(1), []).append(match.group(2) or match.group(3))
    return assigned, members


# --- The comparison ------------------------------------------------------------------------------


def assert_same(texts: list[str], scan: bool = True) -> wechat.JsVars:
    """``JsVars`` of the texts' UTF-8 reads what the oracle read from the texts, and (``scan``)
    what the full scan finds."""
    old = OldJsVars(texts)
    new = wechat.JsVars([text.encode() for text in texts])
    assert new.assigned == old.assigned
    assert new.members == old.members
    if scan:
        assert (new.assigned, new.members) == full_scan(texts)
    for name in wechat.ASSIGNED_NAMES:  # the values, through the same unescaping
        assert new.get(name) == next((v for v in (unescape(wechat._js_unescape(s)).strip() for s in old.assigned.get(name, ())) if v), "")
    return new


def page_text(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode("utf-8")


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_recorded_pages(path: Path) -> None:
    """The scripts as the page is read (``normalize``'s bytes) give what their texts gave."""
    text = page_text(path)
    root = wechat_page.tree(text)
    data = wechat_page.normalize(root)
    texts = wechat_page.scripts(root)
    assert [script.decode() for script in data] == texts
    new = assert_same(texts)
    if path.name.startswith("wae_normal"):
        assert new.get("msg_title") and new.assigned and new.members  # the comparison compared something


def test_recorded_pages_read_somewhere_from_the_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """HAND-MADE from a recorded page: a non-ASCII letter ends the name in a ``||`` chain, so the
    bytes leave that assignment to the text (and the results still agree)."""
    from_text = []
    read = wechat._Script._read_assignment_from_text
    monkeypatch.setattr(wechat._Script, "_read_assignment_from_text", lambda self, start: from_text.append(start) or read(self, start))
    text = page_text(FIXTURES / "pages" / "wae_normal_01_xuanyuan_code.html.gz")
    scripts = wechat_page.scripts(wechat_page.tree(text)) + ["var msg_desc = fallback名 || '描述';\nvar ct = x\u00e9\n|| '1'"]
    new = assert_same(scripts)
    assert new.assigned["msg_desc"][-1] == "'描述'" and new.assigned["ct"][-1] == "'1'"
    assert len(from_text) == 2


CASES = [
    "var msg_title = '标题'.html(false);", "var\u3000ct\u00a0=\u2028'1';", "window.biz = \"MzA\" || '';",
    "中var ct = '1';", "évar ct = '1'; var ct = '2';", "\u3000var ct = '3';", "x.window.ct = '4';",
    "var ct = a中 || '5';", "var ct = a\u3000|| '6';", "var ct = a， || '7';", "var ct = a\n||\n'8'",
    "var ct = htmlDecode(\u3000'9'\u3000);", "var ct = '\\'' || 'x';", "var ct = '\\\\' || 'y';", "var ct = 'open",
    "{title: JsDecode('t')}", "{标题: JsDecode('t')}", "{a标题: JsDecode('t')}", "{ab\u3000: JsDecode('t')}",
    "\u3000name\u3000:\u3000JsDecode('t')", "中name: '1' * 1", "{n: '1'\u3000*\u30001}", "{n: '\\'' * 1}",
    "{n: 'a\\\\' * 1}", "{n: \"x' * 1}", "{n: '1' *1, m: JsDecode('2')}", "n: '1' * 1", ",n:'1'*1", "{_$1: JsDecode(\"x\")}",
    "{1n: JsDecode('x')}", "{\u0661n: JsDecode('x')}", "{n\u0661: JsDecode('x')}", "var ct = '1' * 1;",
]


@pytest.mark.parametrize("script", CASES)
def test_hand_made_scripts(script: str) -> None:
    assert_same([script])
    assert_same([script, script])


PIECES = [
    "var", "window.", "window", ".", " ", "  ", "\n", "\t", "\x0b", "\x1c", "\x85", "\xa0", "\u1680", "\u2000", "\u2028",
    "\u202f", "\u3000", "=", "==", "(", ")", "||", "|", "'", '"', "\\", "\\'", '\\"', "\\\\", "htmlDecode(", "JsDecode(",
    ".html(false)", "*", "* 1", "*1", "1", "10", ":", ",", "{", "}", ";", "$", "_", "a", "x1", "中", "é", "\u017f", "\u212a",
    "\u0661", "\u00b2", "，", "\U0001f600", "\ufffd", "ct", "biz", "msg_title", "title", "nick_name", "create_time",
]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.lists(st.one_of(st.sampled_from(PIECES), st.text(st.characters(blacklist_categories=("Cs",)), max_size=3)), max_size=40), max_size=3))
def test_generated_scripts(scripts: list[list[str]]) -> None:
    assert_same(["".join(pieces) for pieces in scripts], scan=False)  # the oracle's own reading


#: Hand-made JS around the full scan's edges (tests/test_fast_paths.py): names with ``$`` and
#: digits, Unicode and no spaces, ``var`` inside words, members after ``{``/``,``, unterminated strings.
SCAN_EDGES = [
    "var a = 'x'; window.b=\"y\" || ''; var  $c\u3000=\u3000htmlDecode('z');",
    "avar x = '1'; xwindow.y = '2'; var 9z = '3'; var w = (  'p' || \"q\" );",
    "{title: JsDecode('t'),desc:'d' * 1, 1x: '2' * 1,\u00a0n\u2003:\tJsDecode( \"u\" )}",
    "a b : JsDecode('c') d$e:'f'*1 {g:'h' *  1} ,i :'j'",
    "var k = 'unterminated; window.l = JsDecode('m'); n: 'o",
    "var ct = 'a' || b; window.sn=\"x\"; var ctx = '1'; var msg_title = \"var biz = 'inside'\"; xvar mid = '2';",
]


@pytest.mark.parametrize("script", SCAN_EDGES)
def test_what_the_full_scan_finds(script: str) -> None:
    assert WANTED_ASSIGNMENT.pattern != _ASSIGNMENT.pattern  # the names put in
    assert_same([script])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["var", "window.", " ", "\u3000", "=", ":", "'", '"', "a", "$", "1", "{", ",",
                                 "JsDecode(", ")", "*", "1", "||", "\\", "\n", "htmlDecode(", "ct", "sn", "msg_title"]),
                max_size=40).map("".join))
def test_what_the_full_scan_finds_on_generated_text(script: str) -> None:
    assert_same([script])


def test_the_classes_are_pythons() -> None:
    """``STR_ONLY_SPACES`` is what a str ``\\s`` adds to ASCII's; ``_UTF8_SPACE`` matches the UTF-8
    of exactly the characters ``\\s`` does; ``\\w`` is ``str.isalnum`` and ``_`` (every code point)."""
    every = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    spaces = "".join(c for c in every if re.fullmatch(r"\s", c))
    assert "".join(c for c in spaces if not re.fullmatch(rb"\s", c.encode())) == wechat.STR_ONLY_SPACES
    assert all(c.isspace() == bool(re.fullmatch(r"\s", c)) for c in every)
    utf8_space = re.compile(wechat._UTF8_SPACE.encode())
    assert [c for c in every if utf8_space.fullmatch(c.encode())] == list(spaces)
    assert all((c.isalnum() or c == "_") == bool(re.fullmatch(r"\w", c)) for c in every)
