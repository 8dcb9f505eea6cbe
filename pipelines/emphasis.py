"""Bold, italic and strikethrough that render in Hugo (goldmark), also next to CJK punctuation.

CommonMark only lets ``**`` open when the run is *left-flanking* (not followed
by whitespace, and if followed by punctuation then preceded by whitespace or
punctuation) and close when *right-flanking* (the mirror image). Chinese text
breaks this all the time: in ``透露**："…"**`` or ``版**「星际之门」**来了`` the
delimiter sits between a letter and a punctuation mark and is printed as
literal asterisks (``~~`` follows the same rules). html2text also pads text after a
closing ``**`` or ``~~``, or before an opening ``*``, with a space the source does not have.

So the converter does not let html2text write emphasis. :func:`mark` replaces
``<strong>``/``<em>``/``<del>`` by sentinel characters in the cleaned HTML (after pushing
emphasis off places Markdown cannot express it: across blocks, around links,
images and code); html2text passes them through as text, and :func:`render`
turns them into delimiters that are flanking, moving one boundary character at
a time (whitespace, or a punctuation mark that is not Markdown syntax) just
outside the delimiters. Text and its order never change; at worst a
punctuation mark is no longer bold. Each paragraph is then read the way
CommonMark matches delimiters (rule of 3 included); where no placement works
(delimiters of two kinds touching between letters, or Markdown syntax at the
edge) the fewest pairs are written as plain text, never as visible delimiters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from lxml import etree

from pipelines import escape, htmltree
from pipelines.summary import BLOCK_TAGS

#: Emphasis tags and the Markdown delimiter each becomes (as html2text writes them;
#: ``~~`` is the strikethrough Hugo enables by default).
DELIMITERS = {"strong": "**", "b": "**", "em": "*", "i": "*", "u": "*", "del": "~~", "s": "~~", "strike": "~~"}
#: Inline elements whose content Markdown keeps literal: emphasis inside would show its asterisks.
LITERAL_TAGS = ("code", "kbd", "samp", "tt")
#: Unicode noncharacters: never text, so they can stand for delimiters through html2text.
_SENTINELS = {
    ("**", True): "\ufdd0", ("**", False): "\ufdd1",
    ("*", True): "\ufdd2", ("*", False): "\ufdd3",
    ("~~", True): "\ufdd4", ("~~", False): "\ufdd5",
}
_KIND = {char: key for key, char in _SENTINELS.items()}
_SENTINEL_RE = re.compile("[\ufdd0-\ufdd5]")
#: ASCII punctuation that is plain text when it stands raw next to a delimiter. Text's
#: Markdown-active characters are protected by escape.protect at that point, so a raw
#: ``)``, ``]``, ``.``, ``#``, backtick, … there is syntax html2text wrote (links, code).
_MOVABLE_ASCII = frozenset("!\"$%',:;?@^{}(/|")
Node = etree._Element


# --- HTML side ---------------------------------------------------------------

def _is_blank(node: htmltree.Item) -> bool:
    """A string (or string node) of white space only."""
    if isinstance(node, str):
        return not node.strip()
    string = htmltree.string_of(node)
    return string is not None and not string.strip()


def _edge_child(tag: Node, last: bool) -> Node | None:
    children = [c for c in htmltree.contents(tag) if not _is_blank(c)]
    if not children:
        return None
    child = children[-1] if last else children[0]
    return child if not isinstance(child, str) and htmltree.is_tag(child) else None


def _wrap_contents(parent: Node, name: str) -> None:
    """Put all of ``parent``'s children inside a new ``name`` element."""
    wrapper = parent.makeelement(name)
    htmltree.set_contents(wrapper, htmltree.contents(parent))
    htmltree.set_contents(parent, [wrapper])


def _is_block(node: htmltree.Item) -> bool:
    return not isinstance(node, str) and htmltree.is_tag(node) and (node.tag in BLOCK_TAGS or htmltree.first(node, BLOCK_TAGS) is not None)


def _push_into_blocks(tag: Node) -> None:
    """Emphasis around blocks becomes emphasis inside each block (Markdown cannot span blocks)."""
    result: list[htmltree.Item] = []
    group: list[htmltree.Item] = []

    def flush() -> None:
        if any(not _is_blank(node) for node in group):
            wrapper = tag.makeelement(tag.tag)
            htmltree.set_contents(wrapper, group)
            result.append(wrapper)
        else:
            result.extend(group)
        group.clear()

    for child in htmltree.contents(tag):
        if _is_block(child):
            flush()
            if child.tag != "br":
                _wrap_contents(child, tag.tag)
            result.append(child)
        else:
            group.append(child)
    flush()
    htmltree.replace(tag, result)


def _move_edges_out(tag: Node) -> bool:
    """Images and code at the edge leave the emphasis; a link at the edge takes it inside.

    ``**![](x)**``, ``**`x`**`` and ``**[x](u)**`` put Markdown syntax right
    behind the delimiter, which then cannot open or close next to a letter.
    """
    for last in (False, True):
        edge = _edge_child(tag, last)
        if edge is None:
            continue
        if edge.tag in ("img", *LITERAL_TAGS) or edge.get("data-md") is not None:  # data-md: a formula
            htmltree.remove(edge)
            (htmltree.insert_after if last else htmltree.insert_before)(tag, edge)
            return True
        if edge.tag == "a":
            _wrap_contents(edge, tag.tag)
            htmltree.remove(edge)
            (htmltree.insert_after if last else htmltree.insert_before)(tag, edge)
            return True
    return False


def _remove_sentinels(root: Node) -> None:
    """Sentinel characters already in the text go (the cleaning stage removes them as invalid text)."""
    strings = htmltree.all_strings(root)
    if not any(sentinel in strings for sentinel in _KIND):  # (``in`` scans faster than a regex)
        return
    for node in list(root.iter()):
        if node.tail and _SENTINEL_RE.search(node.tail):
            node.tail = _SENTINEL_RE.sub("", node.tail)
        string = htmltree.string_of(node)
        if string is not None and _SENTINEL_RE.search(string):
            htmltree.replace(node, [_SENTINEL_RE.sub("", string)])  # as a plain string, as BeautifulSoup's replace_with
        elif string is None and node.text and _SENTINEL_RE.search(node.text):
            node.text = _SENTINEL_RE.sub("", node.text)


def mark(root: Node) -> None:
    """Replace emphasis elements by sentinels that :func:`render` turns into delimiters."""
    _remove_sentinels(root)
    for tag in list(root.iter(*DELIMITERS)):
        if htmltree.ancestor(tag, LITERAL_TAGS) is not None or any(DELIMITERS.get(p.tag) == DELIMITERS[tag.tag] for p in tag.iterancestors()):
            htmltree.unwrap(tag)  # literal context, or already bold/italic: nothing to add
    # Innermost first (the last in document order): pushed into an emphasis element that itself spans
    # blocks, the outer one would push that one back into itself, forever (``<b><i>a<p>b</p></i></b>``).
    # Where no two spanning elements nest (every case the outermost-first order ever finished), the
    # order changes nothing: each push stays inside its own element.
    while (spanning := next((t for t in reversed(list(root.iter(*DELIMITERS))) if htmltree.first(t, BLOCK_TAGS) is not None),
                            None)) is not None:
        _push_into_blocks(spanning)
    while any(_move_edges_out(tag) for tag in list(root.iter(*DELIMITERS))):
        pass
    for tag in list(root.iter(*DELIMITERS)):
        delimiter = DELIMITERS[tag.tag]
        if htmltree.get_text(tag).strip():
            tag.text = _SENTINELS[delimiter, True] + (tag.text or "")
            htmltree.append_text(tag, _SENTINELS[delimiter, False])
        htmltree.unwrap(tag)


# --- Markdown side -----------------------------------------------------------

@dataclass(eq=False)
class _Delim:
    delimiter: str
    opens: bool
    partner: _Delim | None = None


# Characters are judged as they will read once escape.restore has run: its protected
# characters are the punctuation they stand for, and its BREAK is a line break.

def _is_space(char: str) -> bool:
    return char in "\t\n\r\f" + escape.BREAK or unicodedata.category(char) == "Zs"


def _collapsible(char: str) -> bool:
    """Whitespace that may simply go when it meets other whitespace (HTML collapses it)."""
    return char in " \t"


def _is_punct(char: str) -> bool:
    # CommonMark 0.31 (and goldmark): Unicode punctuation is general category P or S.
    return unicodedata.category(escape.plain(char))[0] in "PS"


def _left_flanking(before: str, after: str) -> bool:
    return not _is_space(after) and (not _is_punct(after) or _is_space(before) or _is_punct(before))


def _right_flanking(before: str, after: str) -> bool:
    return not _is_space(before) and (not _is_punct(before) or _is_space(after) or _is_punct(after))


def _movable(tokens: list, index: int) -> bool:
    """Whether the character at ``index`` is plain text that may cross a delimiter."""
    char = tokens[index]
    if not isinstance(char, str):
        return False
    if _is_space(char):
        return True
    if index > 0 and tokens[index - 1] == "\\":
        return False  # escaped: its backslash must stay with it
    if char != escape.plain(char):
        return True  # plain text, escaped by escape.restore wherever it lands if need be
    if char.isascii():
        if char == "!" and index + 1 < len(tokens) and tokens[index + 1] == "[":
            return False  # image syntax
        return char in _MOVABLE_ASCII
    return _is_punct(char)


def _stays(char: str) -> bool:
    """Whether ``char`` is never moved across a delimiter, whatever its neighbours (see ``_movable``)."""
    if _is_space(char) or char != escape.plain(char):
        return False
    return char not in _MOVABLE_ASCII if char.isascii() else not _is_punct(char)


def _add_text(tokens: list, text: str) -> None:
    """``text`` as tokens: one per character from each end up to the first character that stays
    (only those can be moved or read next to a delimiter), the stretch between as one string."""
    first = next((k for k, char in enumerate(text) if _stays(char)), len(text))
    last = next((k for k in range(len(text) - 1, first, -1) if _stays(text[k])), first)
    if last - first < 2:
        tokens.extend(text)
    else:
        tokens.extend(text[: first + 1])
        tokens.append(text[first + 1 : last])
        tokens.extend(text[last:])


def _tokens(block: str) -> list:
    """Characters, with sentinels as paired delimiters; unpaired sentinels are dropped. Text far
    from delimiters stays in one string (``_add_text``): a paragraph is not a list of its characters."""
    tokens: list = []
    stack: list[_Delim] = []
    done = 0  # block[:done] is in tokens
    for found in _SENTINEL_RE.finditer(block):  # the text between sentinels goes in whole
        _add_text(tokens, block[done : found.start()])
        done = found.end()
        delimiter, opens = _KIND[found.group()]
        if opens:
            stack.append(_Delim(delimiter, True))
            tokens.append(stack[-1])
        elif stack and stack[-1].delimiter == delimiter:
            opener = stack.pop()
            closer = _Delim(delimiter, False, opener)
            opener.partner = closer
            tokens.append(closer)
    _add_text(tokens, block[done:])
    if not stack:
        return tokens
    unpaired = {id(d) for d in stack}
    return [t for t in tokens if id(t) not in unpaired]


def _drop(tokens: list, delim: _Delim) -> None:
    tokens.remove(delim)
    tokens.remove(delim.partner)


def _delimiter_spans(tokens: list, by_char: bool = False) -> list[tuple[int, int]]:
    """(start, end) of each maximal run of delimiters in ``tokens`` (``by_char``: of one delimiter
    character), in order: one pass over the positions of delimiters, not one over every character."""
    spans: list[tuple[int, int]] = []
    for at in [k for k, token in enumerate(tokens) if token.__class__ is _Delim]:
        if spans and spans[-1][1] == at and not (by_char and tokens[at - 1].delimiter[0] != tokens[at].delimiter[0]):
            spans[-1] = (spans[-1][0], at + 1)
        else:
            spans.append((at, at + 1))
    return spans


def _fix_once(tokens: list) -> bool:
    """Make one repair to the first delimiter run that would not render; False if none."""
    for i, j in _delimiter_spans(tokens):
        run = tokens[i:j]
        for a, b in zip(run, run[1:]):
            if a.partner is b:  # empty pair
                _drop(tokens, a)
                return True
            if not a.opens and b.opens and a.delimiter == b.delimiter:  # `**a****b**`: one pair
                tokens.remove(a)
                tokens.remove(b)
                a.partner.partner, b.partner.partner = b.partner, a.partner
                return True
        closers = [d for d in run if not d.opens]
        gap = i + len(closers)  # between the closers and the openers of the run
        before = tokens[i - 1] if i > 0 else "\n"
        after = tokens[j] if j < len(tokens) else "\n"
        if closers and not _right_flanking(before, after):
            if i > 0 and _movable(tokens, i - 1):
                char = tokens.pop(i - 1)  # the last character inside goes just after the closers
                if not (_collapsible(char) and gap == j and _is_space(after)):  # else: spaces collapse anyway
                    tokens.insert(gap - 1, char)
            else:
                _drop(tokens, closers[0])
            return True
        if gap < j and not _left_flanking(before, after):
            if j < len(tokens) and _movable(tokens, j):
                char = tokens.pop(j)  # the first character inside goes just before the openers
                if not (_collapsible(char) and gap == i and _is_space(before)):
                    tokens.insert(gap, char)
            else:
                _drop(tokens, run[-1])
            return True
    return False


@dataclass
class _Run:
    """A maximal run of one delimiter character (``*`` or ``~``) as CommonMark sees it."""

    delims: list[_Delim]
    can_open: bool
    can_close: bool

    @property
    def char(self) -> str:
        return self.delims[0].delimiter[0]

    @property
    def length(self) -> int:
        return sum(len(d.delimiter) for d in self.delims)


def _char_at(tokens: list, index: int) -> str:
    """The character Markdown has at ``index`` (a line break beyond the block)."""
    if not 0 <= index < len(tokens):
        return "\n"
    token = tokens[index]
    return token if isinstance(token, str) else token.delimiter[0]


def _runs(tokens: list) -> list[_Run]:
    runs: list[_Run] = []
    for i, j in _delimiter_spans(tokens, by_char=True):
        before, after = _char_at(tokens, i - 1), _char_at(tokens, j)
        runs.append(_Run(tokens[i:j], _left_flanking(before, after), _right_flanking(before, after)))
    return runs


def _match(runs: list[_Run]) -> tuple[list[tuple[int, int, str]], int]:
    """CommonMark's "process emphasis" over the runs (goldmark's strikethrough alike, with
    runs of at most two tildes): (opener, closer, kind) matches, and how many delimiter
    characters are left over (shown as literal asterisks or tildes)."""
    remaining = [run.length if run.char == "*" or run.length <= 2 else 0 for run in runs]
    leftover = sum(run.length for run in runs) - sum(remaining)
    in_stack = [True] * len(runs)
    matches: list[tuple[int, int, str]] = []
    for c, closer in enumerate(runs):
        if not closer.can_close:
            continue
        while remaining[c]:
            o = c - 1
            while o >= 0:
                opener = runs[o]
                if in_stack[o] and remaining[o] and opener.can_open and opener.char == closer.char:
                    both = opener.can_close or closer.can_open
                    if not (both and (opener.length + closer.length) % 3 == 0 and (opener.length % 3 or closer.length % 3)):
                        break  # "rule of 3" aside, this opener takes the closer
                o -= 1
            if o < 0:
                break
            use = 2 if remaining[o] >= 2 and remaining[c] >= 2 else 1
            matches.append((o, c, closer.char * use))
            remaining[o] -= use
            remaining[c] -= use
            for k in range(o + 1, c):
                in_stack[k] = False
        if remaining[c] and not closer.can_open:
            in_stack[c] = False
    return matches, leftover + sum(remaining)


def _problems(tokens: list) -> int:
    """How far goldmark's reading of the delimiters is from the intended emphasis: literal
    delimiter characters plus stretches of text whose bold/italic/struck state differs."""
    runs = _runs(tokens)
    matches, problems = _match(runs)
    kinds = sorted(set(DELIMITERS.values()))
    shown = [dict.fromkeys(kinds, 0) for _ in runs]  # depth of each kind in the text after each run
    for o, c, kind in matches:
        for k in range(o, c):
            shown[k][kind] += 1
    depth = dict.fromkeys(kinds, 0)
    for k, run in enumerate(runs):
        for d in run.delims:
            depth[d.delimiter] += 1 if d.opens else -1
        if any((depth[kind] > 0) != (shown[k][kind] > 0) for kind in kinds):
            problems += 1
    return problems


def _length(tokens: list) -> int:
    """How many characters and delimiters ``tokens`` stand for."""
    return sum(len(t) if t.__class__ is str else 1 for t in tokens)


def _pairs(tokens: list) -> list[_Delim]:
    return [t for t in tokens if isinstance(t, _Delim) and t.opens]


def _without(tokens: list, opener: _Delim) -> list:
    return [t for t in tokens if t is not opener and t is not opener.partner]


def _render_block(block: str) -> str:
    if not _SENTINEL_RE.search(block):
        return block
    tokens = _tokens(block)
    while True:
        while _fix_once(tokens):
            pass
        if not _problems(tokens):
            break
        # Delimiters of two kinds touching between letters can defeat every placement
        # (CommonMark's "rule of 3", ``甲~~**乙**~~``): give up the pair whose loss mends
        # the most, the shortest on a tie.
        span = lambda o: _length(tokens[tokens.index(o) : tokens.index(o.partner)])  # noqa: E731
        worst = min(_pairs(tokens), key=lambda o: (_problems(_without(tokens, o)), span(o)))
        _drop(tokens, worst)
    return "".join([t if t.__class__ is str else t.delimiter for t in tokens])


def render(markdown: str) -> str:
    """Turn the sentinels left by :func:`mark` into delimiters that render, block by block."""
    return "\n\n".join(_render_block(block) for block in markdown.split("\n\n"))
