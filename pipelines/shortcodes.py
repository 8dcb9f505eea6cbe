"""Hugo's own directives kept out of article text.

Hugo scans a page's body for shortcodes (``{{< name >}}``, ``{{% name %}}``) and the
summary divider (``<!--more-->``) before Goldmark sees the Markdown, wherever they
stand: in text, code blocks and code spans alike. A shortcode in an article would run on
our site (an unknown one fails the whole build) and a divider would cut the summary.
Hugo matches the exact bytes ``{{<``, ``{{%`` and ``<!--more-->``, so one character
between them is enough:

* in text a Markdown backslash escape (``{\\{<``), which Goldmark renders as the literal
  ``{{<`` (Hugo's own escape ``{{</* … */>}}`` needs a balanced closing and still holds ``{{<``);
* in code, where backslashes are literal, an invisible WORD JOINER (U+2060).

``escape.restore`` does the text case; :func:`neutralize` the code case, and, run over
the whole body once it is rendered, is the safety net for any place text could reach
unescaped.
"""

from __future__ import annotations

import re

#: Invisible and without a line-break opportunity: the code still reads the same.
JOINER = "\u2060"
#: Where a joiner goes: between ``{{`` and ``<``/``%``, and inside ``<!--more-->``.
_DIRECTIVE = re.compile(r"(?<=\{\{)(?=[<%])|(?<=<!--)(?=more-->)", re.IGNORECASE)
_FOUND = re.compile(r"\{\{[<%]|<!--more-->", re.IGNORECASE)


def neutralize(text: str) -> str:
    """``text`` with a joiner inside every opening Hugo would read as a directive."""
    return _DIRECTIVE.sub(JOINER, text)


def found(text: str) -> bool:
    """Whether Hugo would find a shortcode or summary divider in ``text``."""
    return _FOUND.search(text) is not None


def opens_shortcode(plain: str, at: int) -> bool:
    """Whether the ``{`` at ``plain[at]`` is the second brace of a shortcode opening (``{{<``, ``{{%``)."""
    return at > 0 and plain[at - 1] == "{" and plain[at + 1 : at + 2] in ("<", "%")
