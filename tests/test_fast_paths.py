"""The fast paths of issue 13 find exactly what the plain versions they replaced find: the depth
check's raw-text ends found by search (``pipelines.limits``), checked on every recorded page and on
generated text. (JS variables read where they can start, from the scripts' bytes: tests/test_wechat_jsvars.py.)"""

from __future__ import annotations

import gzip
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines import limits
from tests.conftest import FIXTURES

#: The depth check's token pattern before issue 13: raw-text bodies and comments matched whole.
PLAIN_TOKEN = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|<(script|style|textarea|title|xmp|plaintext)\b[^>]*>.*?(?:</\1\s*>|\Z)"
    r"|<(/?)([a-zA-Z][^\s/>]*)[^>]*?(/?)>",
    re.S | re.I,
)
#: Hand-made JS and HTML around the patterns' edges: names with ``$`` and digits, Unicode and
#: no spaces, ``var`` inside words, members after ``{``/``,``, unterminated strings and tags.
HANDMADE = [
    "var a = 'x'; window.b=\"y\" || ''; var  $c\u3000=\u3000htmlDecode('z');",
    "avar x = '1'; xwindow.y = '2'; var 9z = '3'; var w = (  'p' || \"q\" );",
    "{title: JsDecode('t'),desc:'d' * 1, 1x: '2' * 1,\u00a0n\u2003:\tJsDecode( \"u\" )}",
    "a b : JsDecode('c') d$e:'f'*1 {g:'h' *  1} ,i :'j'",
    "var k = 'unterminated; window.l = JsDecode('m'); n: 'o",
    "var ct = 'a' || b; window.sn=\"x\"; var ctx = '1'; var msg_title = \"var biz = 'inside'\"; xvar mid = '2';",
    "<script>var p = '</scr' + 'ipt>'</SCRIPT ><!-- var q = 'r' --><style>s{}</style",
]


def recorded_pages() -> list[str]:
    pages = []
    for path in sorted((FIXTURES / "wechat").rglob("*")):
        if path.is_file() and path.suffix in (".html", ".gz", ".htm"):
            data = path.read_bytes()
            pages.append((gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8", "replace"))
    assert len(pages) >= 10
    return pages


def test_depth_tokens_are_the_full_patterns_tokens() -> None:
    for html in [*recorded_pages(), *HANDMADE]:
        assert [(m.start(), m.groups()) for m in limits._tokens(html)] == [(m.start(), m.groups()) for m in PLAIN_TOKEN.finditer(html)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["<", ">", "/", "<!--", "-->", "script", "SCRIPT", "</script >", "<script>", "style",
                                 "p", "div", " ", "a", "\n", "</Style>", "=", '"', "<p>", "</p>", "<br/>"]),
                max_size=40).map("".join))
def test_depth_tokens_on_generated_text(html: str) -> None:
    assert [(m.start(), m.groups()) for m in limits._tokens(html)] == [(m.start(), m.groups()) for m in PLAIN_TOKEN.finditer(html)]
