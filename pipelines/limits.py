"""Cheap bounds checked before HTML reaches the expensive stages.

Parsing, cleaning and converting HTML walk the tree recursively: 10,000 nested
elements cost about a minute of CPU (BeautifulSoup, the cleaning passes, html2text)
before anything fails. ``check_depth`` scans the tags with one regex pass and a
bounded stack, and refuses HTML nested deeper than ``MAX_DEPTH`` — far beyond any
real article (recorded WeChat pages nest about 30 deep, wallstreetcn bodies less).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

#: Deepest element nesting accepted; deeper HTML fails ``too-deep``.
MAX_DEPTH = 512
TOO_DEEP = "too-deep"
#: Elements that never hold others (no end tag).
VOID = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param",
    "source", "track", "wbr", "basefont", "bgsound", "frame", "image", "isindex",
})
#: Elements an open sibling of the same name implicitly closes (``<p>a<p>b`` is two paragraphs).
SELF_CLOSING_SIBLINGS = frozenset({"p", "li", "dt", "dd", "option", "tr", "td", "th", "rb", "rt", "rp"})
#: The start of a comment or a raw-text element (whose content is not markup), or a tag.
_TOKEN = re.compile(
    r"<!--"
    r"|<(script|style|textarea|title|xmp|plaintext)\b[^>]*>"
    r"|<(/?)([a-zA-Z][^\s/>]*)[^>]*?(/?)>",
    re.S | re.I,
)
_RAW_END = {name: re.compile(rf"</{name}\s*>", re.I) for name in ("script", "style", "textarea", "title", "xmp", "plaintext")}
#: What ``re.I`` matches for an ASCII letter in a str besides its two cases (tests/test_limits.py
#: checks every code point).
FOLDED_LETTERS = {"i": "\u0130\u0131", "s": "\u017f", "k": "\u212a"}
_TO_ASCII = str.maketrans({char: letter for letter, chars in FOLDED_LETTERS.items() for char in chars})


def _raw_end(name: str) -> re.Pattern[str]:
    """The end of the raw-text element ``name`` as ``_TOKEN`` matched it (``<ſcript>`` too: ``re.I``)."""
    return _RAW_END[name.translate(_TO_ASCII).lower()]


def _tokens(html: str) -> Iterator[re.Match[str]]:
    """Comments and raw-text elements (as their start: they end at ``-->`` or their end tag, else
    the end of the text) and tags, in order. Their ends are found by plain searches: a lazy
    ``.*?`` over a WeChat page's 3 MB of script took most of the check."""
    pos = 0
    while match := _TOKEN.search(html, pos):
        yield match
        raw = match.group(1)
        if raw is not None:
            end = _raw_end(raw).search(html, match.end())
            pos = end.end() if end else len(html)
        elif match.group(3) is None:  # a comment
            end = html.find("-->", match.end())
            pos = end + 3 if end >= 0 else len(html)
        else:
            pos = match.end()


class TooDeep(ValueError):
    """HTML nested deeper than the limit."""

    reason = TOO_DEEP


def nesting_depth(html: str, stop_above: int = MAX_DEPTH) -> int:
    """The deepest element nesting of ``html`` as a parser would build it, counting up to ``stop_above + 1``.

    End tags close back to their matching open element (closing what was left open
    inside it); unmatched end tags are ignored, as parsers do.
    """
    return _depth(_tokens(html), stop_above)


def _depth(tokens: Iterator[re.Match[str]] | Iterator[re.Match[bytes]], stop_above: int) -> int:
    stack: list[str] = []
    deepest = 0
    for match in tokens:
        raw, closing, name, self_closed = match.group(1, 2, 3, 4)
        if name is None:  # a comment or a raw-text element: no nesting inside
            if raw is not None and len(stack) >= deepest:
                deepest = len(stack) + 1
            continue
        name = (name if isinstance(name, str) else name.decode("ascii")).lower()
        if closing:
            if name in stack:
                del stack[len(stack) - 1 - stack[::-1].index(name):]
        elif self_closed or name in VOID:
            if len(stack) >= deepest:
                deepest = len(stack) + 1
        elif not (stack and stack[-1] == name and name in SELF_CLOSING_SIBLINGS):
            stack.append(name)
            if len(stack) > deepest:
                deepest = len(stack)
                if deepest > stop_above:
                    break
    return deepest


# --- The same reading of valid UTF-8 bytes (a 3 MB page need not be decoded to be checked) -------
# A str pattern and a bytes pattern read UTF-8 alike but for what a str pattern knows of Unicode:
# ``\s`` takes more spaces, ``re.I`` takes four non-ASCII letters for ASCII ones, ``\b`` and
# ``.lower()`` know non-ASCII letters. Raw-text ends are matched with those written out; a token
# whose reading could depend on the rest (a tag name holding non-ASCII or a space only a str sees,
# a raw-text name followed by non-ASCII, a folded letter after ``<``) leaves the question to the text.

#: What ``\s`` matches in a str beyond a bytes pattern's ``[ \t\n\r\f\v]`` (checked likewise).
STR_ONLY_SPACES = ("\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
                   "\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def _utf8(chars: str) -> bytes:
    """A pattern matching any of ``chars`` in UTF-8."""
    return b"(?:" + b"|".join(re.escape(char.encode()) for char in chars) + b")"


def _utf8_letter(letter: str) -> bytes:
    folded = FOLDED_LETTERS.get(letter)
    return b"(?:" + letter.encode() + b"|" + _utf8(folded) + b")" if folded else letter.encode()


#: ``_TOKEN``, and last a folded letter after ``<`` or ``</`` (group 5: the text decides).
_UTF8_TOKEN = re.compile(_TOKEN.pattern.encode() + b"|(</?" + _utf8("".join(FOLDED_LETTERS.values())) + b")", re.S | re.I)
_UTF8_RAW_END = {
    name.encode(): re.compile(b"</" + b"".join(_utf8_letter(c) for c in name) + b"(?:\\s|" + _utf8(STR_ONLY_SPACES) + b")*>", re.I)
    for name in _RAW_END
}
_UNSURE_NAME = re.compile(rb"[\x1c-\x1f\x80-\xff]")


class _Undecided(Exception):
    """A token the bytes cannot read as the text would."""


def _utf8_tokens(data: bytes) -> Iterator[re.Match[bytes]]:
    """``_tokens`` of the text ``data`` decodes to, read from the bytes; ``_Undecided`` at a token
    they cannot read alike."""
    pos = 0
    while match := _UTF8_TOKEN.search(data, pos):
        raw, name = match.group(1), match.group(3)
        if (match.group(5) is not None or (raw is not None and data[match.end(1)] >= 0x80)
                or (name is not None and _UNSURE_NAME.search(name))):
            raise _Undecided
        yield match
        if raw is not None:
            end = _UTF8_RAW_END[raw.lower()].search(data, match.end())
            pos = end.end() if end else len(data)
        elif match.group(3) is None:  # a comment
            end = data.find(b"-->", match.end())
            pos = end + 3 if end >= 0 else len(data)
        else:
            pos = match.end()


def nesting_depth_utf8(data: bytes, stop_above: int = MAX_DEPTH) -> int | None:
    """``nesting_depth`` of the text valid UTF-8 ``data`` decodes to, or None when only the text can tell."""
    try:
        return _depth(_utf8_tokens(data), stop_above)
    except _Undecided:
        return None


def check_depth(html: str, max_depth: int = MAX_DEPTH) -> None:
    """Raise ``TooDeep`` when ``html`` nests elements deeper than ``max_depth``."""
    _check(nesting_depth(html, max_depth), max_depth)


def check_depth_utf8(data: bytes, max_depth: int = MAX_DEPTH) -> None:
    """``check_depth`` of the text valid UTF-8 ``data`` decodes to, decoding it only when its bytes cannot tell."""
    depth = nesting_depth_utf8(data, max_depth)
    _check(nesting_depth(data.decode("utf-8"), max_depth) if depth is None else depth, max_depth)


def _check(depth: int, max_depth: int) -> None:
    if depth > max_depth:
        raise TooDeep(f"HTML nests elements more than {max_depth} deep")
