r"""Keep article text as text in Markdown, escaping only where a character would become markup.

html2text escapes too little (``# 话题`` becomes a heading, ``a*b*c`` emphasis, ``<tag>``
raw HTML) and, in snob mode, far too much. So before conversion every Markdown-active
character in the body's text is swapped for a private code point that html2text passes
through untouched; after conversion each is put back, escaped only if its final
context (line start, neighbours) would give it a meaning. ``<br>`` is carried the same
way and becomes a CommonMark hard break (backslash, newline) inside a paragraph.

Hugo's goldmark typographer (on by default) rewrites ``"``, ``'``, ``--``, ``...``, ``<<`` and
``>>`` into curly quotes, dashes, ellipses and guillemets, guessing wrong next to CJK text. It
leaves backslash-escaped characters alone, so every quote is escaped, and each character of
such a run (``\-\-``, ``\.\.\.``): the page then shows the source's characters.
"""

from __future__ import annotations

import re
import unicodedata

from lxml import etree

from pipelines import htmltree, shortcodes

_ACTIVE = "\\`*_[]<>#&~-+.)=!{\"'"
# Supplementary Private Use Area-B: never found in real article text.
_TO_PRIVATE = {char: chr(0x10FF00 + i) for i, char in enumerate(_ACTIVE)}
_FROM_PRIVATE = {code: char for char, code in _TO_PRIVATE.items()}
BREAK = chr(0x10FFF0)
#: The code points this module uses for its own marks; found in article text they are forgeries.
_OWN_MARKS = re.compile("[\U0010ff00-\U0010ffff]")
_PROTECT = str.maketrans(_TO_PRIVATE)
#: Any character ``protect`` swaps (most strings of a Chinese article hold none: translate is the slower scan).
_ANY_ACTIVE = re.compile("[" + re.escape(_ACTIVE) + "]")


def _private(active: re.Match[str]) -> str:
    """What ``translate(_PROTECT)`` makes of the character: through ``_ANY_ACTIVE.sub``, a few times faster
    over Chinese text, where the active characters are few."""
    return _TO_PRIVATE[active.group()]

#: Any protected character (restore's fast path: most lines hold none).
_ANY_PROTECTED = re.compile("[" + "".join(_FROM_PRIVATE) + "]")
#: Where a line's text begins: after indentation, quote markers and a list marker.
_LINE_PREFIX = re.compile(r"^(?:[ \t]*>[ \t]?)*(?:[ \t]*(?:[*+-]|\d{1,9}[.)])[ \t]+)?[ \t]*")
_SKIP_PARENTS = {"pre", "code", "script", "style"}


def protect(root: etree._Element) -> None:
    """Swap Markdown-active characters in text (not code) for private code points, ``<br>`` for BREAK."""
    for br in list(root.iter("br")):
        htmltree.replace(br, [" " if htmltree.ancestor(br, ("td", "th")) is not None else BREAK])
    skipped = {node for parent in root.iter(*_SKIP_PARENTS) for node in parent.iter()}
    retyped = []
    for node in root.iter():
        if node in skipped:
            continue
        if node.text and _ANY_ACTIVE.search(node.text):
            if htmltree.is_tag(node):
                node.text = _ANY_ACTIVE.sub(_private, node.text)
            elif node.tag == htmltree.TYPED:
                node.text = _ANY_ACTIVE.sub(_private, node.text)
                retyped.append(node)  # a ruby string written anew: a plain string from now on
        for child in node:
            if child.tail and _ANY_ACTIVE.search(child.tail):
                child.tail = _ANY_ACTIVE.sub(_private, child.tail)
    for node in retyped:
        htmltree.unwrap(node)


def _is_space(char: str) -> bool:
    return char == "" or char.isspace()


def _is_punct(char: str) -> bool:
    return bool(char) and unicodedata.category(char)[0] in "PS"


#: A bare URL goldmark links (its linkify extension) before the typographer sees it: quotes and
#: runs inside stay unescaped, as a backslash would end the link.
_BARE_URL = re.compile(r"(?:https?://|www\.)\S*")


def _typographic_run(char: str, before: str, after: str) -> bool:
    """Whether ``char`` is part of ``--``, ``..``, ``<<`` or ``>>``, which the typographer rewrites."""
    return char in (before, after)


def _in_urls(plain: str) -> set[int]:
    """Positions of ``plain`` inside bare URLs."""
    return {i for url in _BARE_URL.finditer(plain) for i in range(url.start(), url.end())}


def _plain(found: re.Match[str]) -> str:
    return _FROM_PRIVATE[found.group()]


def _restore_line(line: str) -> str:
    if not _ANY_PROTECTED.search(line):
        return line
    plain = _ANY_PROTECTED.sub(_plain, line)  # not ``translate``: a dict lookup per character of the line
    start = _LINE_PREFIX.match(line).end()  # type: ignore[union-attr]  # on `line`: text markers are still private
    brackets = "](" in plain or "][" in plain or "]:" in plain
    # Hugo's Goldmark reads a heading's trailing ``{…}`` as HTML attributes (style=…, class=…).
    heading = re.match(r"#{1,6}(?:[ \t]|$)", line[start:]) is not None
    in_url = _in_urls(plain) if "://" in plain or "www." in plain else set()
    out: list[str] = []
    done = 0  # line[:done] is in out
    for found in _ANY_PROTECTED.finditer(line):  # the protected characters only: most of a line is text
        i = found.start()
        char = _FROM_PRIVATE[line[i]]
        out.append(line[done:i])
        done = i + 1
        before = plain[i - 1] if i > 0 else ""
        after = plain[i + 1] if i + 1 < len(plain) else ""
        at_start = i == start
        if char == "\\":
            escape = bool(after) and after.isascii() and _is_punct(after)
        elif char == "`":
            escape = True
        elif char == "*":
            escape = at_start or not (_is_space(before) and _is_space(after))
        elif char == "_":
            intraword = not (_is_space(before) or _is_punct(before) or _is_space(after) or _is_punct(after))
            escape = at_start or not (intraword or (_is_space(before) and _is_space(after)))
        elif char in "[]":
            escape = brackets
        elif char == "<":
            escape = bool(after) and (after.isascii() and after.isalpha() or after in "/!?")
        elif char == ">":
            escape = at_start
        elif char == "#":
            escape = at_start and _is_space(plain[i:].lstrip("#")[:1])
        elif char == "&":
            escape = re.match(r"&#?[A-Za-z0-9]+;", plain[i:]) is not None
        elif char == "!":  # before a link it would make an image
            escape = after == "["
        elif char == "~":  # strikethrough takes two
            escape = "~" in (before, after) or at_start
        elif char == "{":  # a shortcode opening (``{\{<`` reads as ``{{<``, Hugo runs nothing), heading attributes
            escape = heading or shortcodes.opens_shortcode(plain, i)
        elif char in "\"'":  # the typographer would curl them
            escape = i not in in_url
        elif char in "-+=":  # list bullets, thematic breaks, setext underlines
            rest = plain[start:].strip()
            escape = at_start and (_is_space(after) or set(rest) <= {char, " "})
            escape = escape or (char == "-" and plain[max(0, i - 2) : i] == "<!")  # Hugo's ``<!--more-->``
            escape = escape or (char == "-" and i not in in_url and _typographic_run(char, before, after))
        else:  # "." or ")" closing an ordered-list number
            escape = re.fullmatch(r"\d{1,9}", plain[start:i]) is not None and _is_space(after)
        if char in "<>." and i not in in_url and _typographic_run(char, before, after):
            escape = True
        out.append("\\" + char if escape else char)
    out.append(line[done:])
    return "".join(out)


#: Breaks at a line's start (after its quote or list marker too), at its end, and inside it.
_LEADING_BREAKS = re.compile(rf"^({_LINE_PREFIX.pattern[1:]})(?:{BREAK}[ \t]*)+")
_TRAILING_BREAKS = re.compile(rf"[ \t]*(?:{BREAK}[ \t]*)+$")
_BREAKS = re.compile(rf"[ \t]*(?:{BREAK}[ \t]*)+")


def _break_line(line: str) -> str:
    """A line's breaks: at its edges they break nothing and go; inside, each run is a hard break."""
    line = _TRAILING_BREAKS.sub("", _LEADING_BREAKS.sub(r"\1", line))
    return _BREAKS.sub("\\\\\n", line)


def restore(markdown: str) -> str:
    """Put the protected characters back, escaped only where needed; BREAK becomes a hard break."""
    lines = markdown.split("\n")
    if BREAK in markdown:  # a line at a time, and only lines with a break: most have none
        lines = [part for line in lines for part in (_break_line(line).split("\n") if BREAK in line else (line,))]
    return "\n".join([_restore_line(line) for line in lines])


def plain(char: str) -> str:
    """What a character protected by :func:`protect` reads as once restored."""
    return _FROM_PRIVATE.get(char, char)


def unforgeable(text: str) -> str:
    """``text`` without the code points :func:`protect` uses as marks (each becomes U+FFFD): left in,
    :func:`restore` would turn them into markup characters, even inside code spans."""
    return _OWN_MARKS.sub("\ufffd", text)


def protected(text: str) -> str:
    """``text`` with its Markdown-active characters protected, for :func:`restore` to escape in context."""
    return text.translate(_PROTECT)


def text(line: str) -> str:
    """A line of plain text as Markdown that reads as exactly that text (e.g. a summary)."""
    return restore(line.translate(_PROTECT))
