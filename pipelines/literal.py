"""Literal Markdown handed from a source cleaner to the converter inside the HTML.

html2text cannot express some things (a LaTeX formula must reach the page as ``$…$``
untouched), so a source cleaner puts the finished Markdown in a ``data-md`` attribute
and the converter writes it as it is. Upstream HTML may carry a ``data-md`` attribute of
its own, which would then be written raw (HTML included). So the channel is signed: the
value we set is accompanied by an HMAC under a secret drawn once per process (sources
and pipelines run in the same crawl process); the converter honours only a valid
signature and :func:`strip_forged` removes every other ``data-md`` on entry.

The Markdown we put in the channel is built here too (:func:`math`), escaped so that
it cannot end its own span or open raw HTML.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from lxml import etree

from pipelines.article import repair_text
from pipelines.escape import unforgeable

ATTRIBUTE = "data-md"
SIGNATURE = "data-md-sig"
_SECRET = secrets.token_bytes(32)

#: A dollar (with any backslashes before it) inside a formula: written ``\\$`` it renders
#: ``\$``, the dollar sign TeX shows, never a math delimiter.
_DOLLAR = re.compile(r"\\*\$")
#: ``<`` that would open raw HTML, an autolink or a comment; ``\<`` renders ``<``.
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
#: ``{{<`` / ``{{%``: ``{\{`` renders ``{{`` and Hugo runs no shortcode.
_SHORTCODE = re.compile(r"\{(?=\{[<%])")
#: A formula line that would start a Markdown block (heading, quote, list, fence, break, table, HTML).
_BLOCK_START = re.compile(r"^([ \t]*)([#>*+=_`~|<-])")
_LINE_BREAK = re.compile(r"[ \t]*\n\s*")
_ORDERED_START = re.compile(r"^([ \t]*\d{1,9})([.)])")


def secret() -> bytes:
    """This process's signing secret, for worker processes that render its articles (``pipelines.workers``)."""
    return _SECRET


def use_secret(value: bytes) -> None:
    """Honour what the process owning ``value`` signed (set once, as a render worker starts)."""
    global _SECRET
    _SECRET = value


def _sign(markdown: str) -> str:
    return hmac.new(_SECRET, markdown.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def attrs(markdown: str) -> dict[str, str]:
    """The attributes that make an element stand for ``markdown``."""
    return {ATTRIBUTE: markdown, SIGNATURE: _sign(markdown)}


def markdown_of(tag: etree._Element) -> str | None:
    """The literal Markdown ``tag`` stands for, or None when it carries none we signed."""
    value, signature = tag.get(ATTRIBUTE), tag.get(SIGNATURE)
    if not isinstance(value, str) or not isinstance(signature, str):
        return None
    return value if hmac.compare_digest(signature, _sign(value)) else None


def strip_forged(root: etree._Element) -> None:
    """Remove every ``data-md`` (and signature) this process did not set."""
    for tag in root.xpath(f"descendant-or-self::*[@{ATTRIBUTE} or @{SIGNATURE}]"):
        if markdown_of(tag) is None:
            tag.attrib.pop(ATTRIBUTE, None)
            tag.attrib.pop(SIGNATURE, None)


def _escape_latex(latex: str) -> str:
    latex = _DOLLAR.sub(lambda _: "\\\\$", latex)
    latex = _TAG_START.sub(lambda _: "\\<", latex)
    return _SHORTCODE.sub(lambda _: "{\\", latex)


def math(latex: str, block: bool) -> str:
    """A LaTeX formula as the site writes it: ``$…$`` inline, ``$$``-fenced lines as a block.

    Inline, line breaks become spaces (a blank line would end the paragraph). As a block,
    blank lines are dropped and a line that would start a Markdown block is escaped.
    """
    latex = _escape_latex(unforgeable(repair_text(latex)).strip())
    if not block:
        return "$" + _LINE_BREAK.sub(" ", latex) + "$"
    lines = [_ORDERED_START.sub(r"\1\\\2", _BLOCK_START.sub(r"\1\\\2", line)) for line in latex.split("\n") if line.strip()]
    return "$$\n" + "\n".join(lines) + "\n$$"
