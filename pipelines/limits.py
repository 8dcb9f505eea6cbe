"""Cheap bounds checked before HTML reaches the expensive stages.

Parsing, cleaning and converting HTML walk the tree recursively: 10,000 nested
elements cost about a minute of CPU (BeautifulSoup, the cleaning passes, html2text)
before anything fails. ``check_depth`` scans the tags with one regex pass and a
bounded stack, and refuses HTML nested deeper than ``MAX_DEPTH`` — far beyond any
real article (recorded WeChat pages nest about 30 deep, wallstreetcn bodies less).
Where the tree is built first anyway (a WeChat page read from its bytes: libxml2 alone costs
little even when deep), ``check_tree_depth`` asks the tree itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

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


def _depth(tokens: Iterator[re.Match[str]], stop_above: int) -> int:
    stack: list[str] = []
    deepest = 0
    for match in tokens:
        raw, closing, name, self_closed = match.group(1, 2, 3, 4)
        if name is None:  # a comment or a raw-text element: no nesting inside
            if raw is not None and len(stack) >= deepest:
                deepest = len(stack) + 1
            continue
        name = name.lower()
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


def check_depth(html: str, max_depth: int = MAX_DEPTH) -> None:
    """Raise ``TooDeep`` when ``html`` nests elements deeper than ``max_depth``."""
    _check(nesting_depth(html, max_depth), max_depth)


#: Elements nested deeper than ``MAX_DEPTH`` in a tree: the path of one step more, each step a child element.
_BELOW_MAX_DEPTH = etree.XPath("/*" * (MAX_DEPTH + 1))


def check_tree_depth(root: etree._Element) -> None:
    """Raise ``TooDeep`` when the document of ``root`` nests elements deeper than ``MAX_DEPTH``: the
    depth of the tree libxml2 built, which is what every later stage reads. One XPath step per
    level visits each element at most once (~0.03 ms on a 3 MB WeChat page, where the text scan
    costs ~6 ms); libxml2 builds up to 2,048 levels (``huge_tree``), far past the limit."""
    if _BELOW_MAX_DEPTH(root):
        raise TooDeep(f"HTML nests elements more than {MAX_DEPTH} deep")


def _check(depth: int, max_depth: int) -> None:
    if depth > max_depth:
        raise TooDeep(f"HTML nests elements more than {max_depth} deep")
