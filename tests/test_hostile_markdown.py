"""Hostile article fields through the real conversion (``render``: Article → file text).

Every fragment here is HAND-MADE, written as an attacker controlling a source (or a broken
upstream) could send it. Whatever comes in, the file must be front matter YAML reads and a
body that cannot run on the site: CommonMark (markdown-it-py) finds no raw HTML in it, every
link and image goes to http(s) (or a relative URL), and Hugo finds no shortcode or summary
divider in it. The property tests at the end throw random text at titles and bodies.
"""

from __future__ import annotations

import re

import frontmatter
import pytest
import yaml
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from crawler.sources.wechat_clean import clean_content
from pipelines import literal, shortcodes
from pipelines.article import Article, Attribution
from pipelines.clean import destination
from pipelines.render import RenderConfig, RenderError, render

CONFIG = RenderConfig()
#: What Hugo would run or cut at: shortcode openings and the summary divider.
HUGO_DIRECTIVE = re.compile(r"\{\{[<%]|<!--more-->", re.I)
SAFE_URL = re.compile(r"^(?:https?://|//|/|#|\.\.?/|[^:/?#]*(?:[/?#]|$))", re.I)

# --- hand-made hostile body fragments (HTML as a source delivers it) ---------------------------
BODIES: dict[str, str] = {
    # Hugo shortcodes and the summary divider, in every context
    "shortcode-text": "<p>看 {{< youtube abc >}} 和 {{% param \"x\" %}} 和 {{< nosuch >}}</p>",
    "shortcode-tight": "<p>{{&lt;x&gt;}}{{%y%}}{{&lt;/x&gt;}}</p>",
    "shortcode-split-nodes": "<p>{<b>{</b>< x >}} {{<i>&lt;</i> y >}}</p>",
    "shortcode-triple-brace": "<p>{{{< x >}}} {{{{% y %}}}}</p>",
    "shortcode-in-code-block": "<pre><code>{{< youtube abc >}}\n{{% x %}}</code></pre>",
    "shortcode-in-inline-code": "<p><code>{{<x>}}</code> 和 <code>{{% y %}}</code></p>",
    "shortcode-in-heading": "<h2>{{< youtube abc >}}</h2>",
    "heading-attributes": '<h2>标题 {style="position:fixed" .x #y onclick="alert(1)"}</h2><ul><li><h3>h {.z}</h3></li></ul>',
    "shortcode-in-list": "<ul><li>{{% param x %}}</li><li><code>{{< y >}}</code></li></ul>",
    "shortcode-in-quote": "<blockquote><p>{{< youtube abc >}}</p></blockquote>",
    "shortcode-in-table": "<table><tr><th>{{< a >}}</th><th>b</th></tr><tr><td><code>{{% c %}}</code></td><td>d</td></tr></table>",
    "shortcode-in-link-text": '<p><a href="https://example.org/">{{< youtube abc >}}</a></p>',
    "shortcode-in-alt": '<p><img src="https://example.org/i.png" alt="{{< youtube abc >}}"></p>',
    "shortcode-in-title-attr": '<p><a href="https://example.org/" title="{{% x %}}">t</a></p>',
    "shortcode-in-href": '<p><a href="https://example.org/{{< x >}}">t</a></p>',
    "more-divider-text": "<p>摘要&lt;!--more--&gt;正文</p>",
    "more-divider-comment": "<p>摘要<!--more-->正文</p>",
    "more-divider-code": "<pre><code>&lt;!--more--&gt;</code></pre><p><code>&lt;!--MORE--&gt;</code></p>",
    # raw HTML as text and as markup
    "html-as-text": "<p>&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt;</p>",
    "html-comment-as-text": "<p>&lt;!-- x --&gt; &lt;?php x ?&gt; &lt;!DOCTYPE html&gt; &lt;![CDATA[x]]&gt;</p>",
    "html-block-line-start": "<p>&lt;div&gt;</p><p>&lt;/div&gt;</p><p>&lt;pre&gt;x</p>",
    "html-autolink-text": "<p>&lt;https://example.org&gt; &lt;javascript:alert(1)&gt; &lt;a@b.c&gt;</p>",
    "script-element": "<script>alert(1)</script><p>可见</p><style>p{}</style>",
    "iframe-element": '<iframe src="javascript:alert(1)"></iframe><video src="data:text/html,x"></video><p>x</p>',
    "ruby-text": "<p><ruby>字<rp>(&lt;script&gt;</rp><rt>&lt;b&gt;zi</rt><rp>)</rp></ruby></p>",
    "entity-text": "<p>&amp;lt;script&amp;gt; &amp;#60;b&amp;#62; &amp;amp;</p>",
    "svg-onload": '<p>x<svg onload="alert(1)"><script>alert(2)</script></svg></p>',
    "object-embed": '<p>x</p><object data="javascript:alert(1)"></object><embed src="javascript:alert(1)">',
    # forged literal Markdown channel
    "data-md-p": '<p data-md="<script>alert(1)</script>">x</p>',
    "data-md-span": '<p>a<span data-md="<img src=x onerror=alert(1)>">y</span>b</p>',
    "data-md-div-forged-sig": '<div data-md="<b>z</b>" data-md-sig="0000">z</div>',
    "data-md-code": '<p><code data-md="<i>x</i>">c</code></p>',
    # code blocks and fences
    "fence-backticks-inside": "<pre><code>```\n</code></pre><p>x</p>",
    "fence-tildes-inside": "<pre><code>~~~~\n```` </code></pre><p>&lt;b&gt;</p>",
    "fence-long-run": "<pre><code>" + "`" * 20 + "\n&lt;script&gt;</code></pre>",
    "fence-cr-line-ends": "<pre><code>a&#13;```&#13;&lt;script&gt;alert(1)&lt;/script&gt;</code></pre>",
    "fence-lang-backtick": '<pre data-lang="py`<script>alert(1)</script>"><code>x = 1</code></pre>',
    "fence-lang-class": '<pre><code class="language-a\nb`c">y = 2</code></pre>',
    "fence-lang-spaces": '<pre><code class="lang-x&lt;b&gt;">z</code></pre>',
    "fence-in-quote": "<blockquote><pre><code>a\n&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre></blockquote>",
    "fence-in-list": "<ul><li>x<pre><code>a\n&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre></li></ul>",
    "fence-in-ordered-list": "<ol><li><pre><code>&lt;div&gt;\n```\n&lt;div&gt;</code></pre></li></ol>",
    "fence-in-nested-quote": "<blockquote><blockquote><pre><code>&lt;img src=x&gt;\n</code></pre></blockquote></blockquote>",
    "fence-in-heading": "<h2><pre><code>&lt;script&gt;\n</code></pre></h2>",
    "fence-in-table": "<table><tr><td><pre><code>&lt;b&gt;\n|x|</code></pre></td><td>2</td></tr></table>",
    "inline-code-backticks": "<p><code>`</code><code>``&lt;b&gt;</code> x <code>a\nb</code></p>",
    "inline-code-html": "<p><code>&lt;script&gt;alert(1)&lt;/script&gt;</code></p>",
    # links and images
    "link-javascript": '<p><a href="javascript:alert(1)">a</a></p>',
    "link-vbscript": '<p><a href="vbscript:msgbox(1)">b</a></p>',
    "link-data": '<p><a href="data:text/html,<script>x</script>">c</a></p>',
    "link-file": '<p><a href="file:///etc/passwd">d</a></p>',
    "link-obfuscated-tab": '<p><a href="JaVa&#x09;ScRiPt:alert(1)">e</a></p>',
    "link-leading-space": '<p><a href=" javascript:alert(1)">f</a></p>',
    "link-entity": '<p><a href="&#106;avascript:alert(1)">g</a></p>',
    "link-double-entity": '<p><a href="&amp;#106;avascript:alert(1)">h</a></p>',
    "link-newline": '<p><a href="java\nscript:alert(1)">i</a></p>',
    "link-backslash-colon": '<p><a href="javascript\\:alert(1)">j</a></p>',
    "link-zero-width": '<p><a href="java&#8203;script:alert(1)">k</a></p>',
    "link-mailto": '<p><a href="mailto:a@b.c">l</a></p>',
    "link-title-breakout": '<p><a href="https://example.org/a" title="x&quot;) [y](javascript:alert(1)">t</a></p>',
    "link-text-breakout": '<p><a href="https://example.org/a">t](javascript:alert(1)) [u</a></p>',
    "link-paren-url": '<p><a href="https://example.org/a)(javascript:alert(1)">t</a></p>',
    "image-schemes": '<p><img src="javascript:alert(1)"><img src="data:text/html,<script>x</script>"><img src="file:///etc/passwd">'
                     '<img src="vbscript:x"><img src="https://example.org/ok.png"></p>',
    "image-data-png": '<p><img src="data:image/png;base64,AAAA">x</p>',
    "image-alt-breakout": '<p><img src="https://example.org/i.png" alt="](javascript:alert(1)) <script>"></p>',
    "image-alt-blank-line": '<p><img src="https://example.org/i.png" alt="a\n\n<div>b</div>\n\n`c"></p>',
    "image-title": '<p><img src="https://example.org/i.png" title="&quot;&gt;<script>"></p>',
    "text-link-reference": "<p>[x]: javascript:alert(1)</p><p>[x]</p>",
    "bang-bracket-text": "<p>![x](javascript:alert(1))</p>",
    # formulas, as WeChat sends them (through the WeChat cleaner)
    "formula-inline-breakout": '<span data-formula="x$ <script>alert(1)</script> \n\n$y" data-formula-type="inline-equation">f</span>',
    "formula-block-breakout": '<section data-formula="\\end{x}$$<img src=x onerror=alert(1)>" data-formula-type="block-equation">g</section>',
    "formula-block-lines": '<section data-formula="a\n\n# h\n&lt;div&gt;\n- x\n1. y\n```\n$$" data-formula-type="block-equation">g</section>',
    "formula-shortcode": '<span data-formula="{{< youtube abc >}} {{% x %}}" data-formula-type="inline-equation">f</span>',
    # text that would be Markdown
    "markdown-as-text": "<p># 标题</p><p>* 项</p><p>1. 列</p><p>&gt; 引</p><p>--- </p><p>***</p>",
    "controls-in-text": "<p>零\x00字节\x01\x1b\x7f\x85\u2028\ufffe\ud800结束</p>",
    "placeholder-forgery": "<p>MDRAWBLOCK0X MDRAWBLOCK99X MDRAWBLOCKabcN0X</p><pre><code>x</code></pre>",
    "private-use-in-code": "<p><code>\U0010ff01&lt;script&gt;alert(1)&lt;/script&gt;\U0010ff01</code></p>"
                           "<p><code>&#x10ff01;&lt;img src=x onerror=alert(1)&gt;&#x10ff01;</code></p>",
    "entities-invalid": "<p>&#1;&#x85;&#xFFFE;&#xD800;&#x10FFFF;&#x2028;x</p>",
    "formula-private-use": '<span data-formula="\U0010ff01&lt;b&gt;\U0010ff01" data-formula-type="inline-equation">f</span>',
    "private-use-forgery": "<p>\U0010ff06script\U0010ff07 \U0010ff04x\U0010ff05(javascript:a) \U0010fff0</p>",
}
#: Bodies that go through the WeChat cleaner first (the formulas come from its ``data-formula``).
WECHAT_BODIES = {name for name in BODIES if name.startswith("formula-")}

TITLES = {
    "title-surrogate": "标题\ud800结尾",
    "title-shortcode": "{{< youtube abc >}} 标题 {{% param x %}}",
    "title-front-matter": 'a"\n---\nfoo: bar\n---\n',
    "title-controls": "控制\x00\x01\x1b\x7f\x85\u2028\ufffe\U0001fffe字符",
    "title-yaml": "&a *a !!python/object:os.system [x]: {y: z} # c",
    "title-html": "<script>alert(1)</script>",
    "title-more": "<!--more-->",
    "title-crlf": "a\r\nb\rc\u2029d",
}
ATTRIBUTIONS = {
    "source-uri-newline": Attribution("来源号", "https://mp.weixin.qq.com/s/abcdefgh12\n<script>alert(1)</script>", "原标题"),
    "source-uri-javascript": Attribution("来源号", "javascript:alert(1)", "原标题"),
    "source-uri-data": Attribution("来源号", "data:text/html,<script>x</script>", "原标题"),
    "source-uri-entity": Attribution("来源号", "&#106;avascript:alert(1)", "原标题"),
    "source-name-markdown": Attribution("[x](javascript:alert(1)) {{< y >}} {{% z %}} <b>", "https://example.org/src", "t"),
    "source-name-newline": Attribution("a\n\n<div>\n# h", "https://example.org/src", "t\n\n<script>"),
    "source-title-shortcode": Attribution("n", "https://example.org/src", "{{< youtube abc >}} <!--more-->"),
}
COVERS = {
    "cover-javascript": "javascript:alert(1)",
    "cover-newline": 'https://example.org/a.png"\nfoo: bar',
    "cover-data": "data:image/png;base64,AAAA",
    "cover-relative": "../x.png",
}


def article(**fields: object) -> Article:
    base = dict(source="wallstreetcn", id="1", url="https://wallstreetcn.com/articles/1", title="标题",
                published=1739161876, body_html="<p>正文</p>")
    return Article(**(base | fields))  # type: ignore[arg-type]


def urls(tokens: list[Token]) -> list[str]:
    found = []
    for token in tokens:
        for child in [token, *(token.children or [])]:
            if child.type == "link_open":
                found.append(str(child.attrGet("href")))
            elif child.type == "image":
                found.append(str(child.attrGet("src")))
    return found


def check(document: str) -> frontmatter.Post:
    """What every rendered file must be; returns the parsed file for case-specific checks."""
    document.encode("utf-8")  # no lone surrogates
    head = document.split("\n---\n", 1)[0].removeprefix("---\n")
    assert isinstance(yaml.safe_load(head), dict)
    post = frontmatter.loads(document)
    assert isinstance(post["title"], str)
    assert not HUGO_DIRECTIVE.search(post.content), HUGO_DIRECTIVE.search(post.content)
    tokens = MarkdownIt("commonmark").parse(post.content)
    for token in tokens:
        assert token.type != "html_block", token.content
        assert all(child.type != "html_inline" for child in token.children or []), token.content
    for url in urls(tokens):
        assert SAFE_URL.match(url), url
        assert not re.match(r"\s*(?:javascript|vbscript|data|file):", url, re.I), url
    thumbnail = post["thumbnail"]
    assert thumbnail == "" or thumbnail.startswith(("https://", "http://", "//")), thumbnail
    return post


def body_of(name: str) -> str:
    html = BODIES[name]
    return clean_content(html) if name in WECHAT_BODIES else html


def shown(markdown: str) -> str:
    """The text a reader sees (CommonMark rendering, tags removed, entities decoded)."""
    return BeautifulSoup(MarkdownIt("commonmark").render(markdown), "lxml").get_text()


def test_the_corpus_is_large_enough() -> None:
    assert len(BODIES) + len(TITLES) + len(ATTRIBUTIONS) + len(COVERS) >= 60


@pytest.mark.parametrize("name", list(BODIES))
def test_hostile_body(name: str) -> None:
    check(render(article(body_html=body_of(name)), CONFIG))


@pytest.mark.parametrize("name", list(TITLES))
def test_hostile_title(name: str) -> None:
    post = check(render(article(title=TITLES[name], attribution=Attribution("n", "https://example.org/", TITLES[name])), CONFIG))
    assert post["title"].strip()


@pytest.mark.parametrize("name", list(ATTRIBUTIONS))
def test_hostile_attribution(name: str) -> None:
    check(render(article(attribution=ATTRIBUTIONS[name]), CONFIG))


@pytest.mark.parametrize("name", list(COVERS))
def test_hostile_cover(name: str) -> None:
    check(render(article(cover=COVERS[name]), CONFIG))


# --- what the reader sees of them ---------------------------------------------------------------


def content(name: str) -> str:
    return frontmatter.loads(render(article(body_html=body_of(name)), CONFIG)).content


def test_shortcodes_in_text_show_as_written() -> None:
    text = shown(content("shortcode-text"))
    assert '看 {{< youtube abc >}} 和 {{% param "x" %}} 和 {{< nosuch >}}' in text
    assert "{{<x>}}{{%y%}}{{</x>}}" in shown(content("shortcode-tight"))
    assert "{{< youtube abc >}}" in shown(content("shortcode-in-link-text"))


def test_shortcodes_in_code_read_the_same_with_an_invisible_joiner() -> None:
    code = MarkdownIt("commonmark").parse(content("shortcode-in-code-block"))[0].content
    assert code.replace(shortcodes.JOINER, "") == "{{< youtube abc >}}\n{{% x %}}\n"
    assert shortcodes.JOINER in code


def test_summary_divider_is_text() -> None:
    assert "摘要<!--more-->正文" in shown(content("more-divider-text"))
    assert "<!--more-->" not in content("more-divider-code")


def test_heading_attributes_are_text() -> None:
    """Hugo's Goldmark would read a heading's trailing ``{…}`` as attributes (``style`` included)."""
    md = content("heading-attributes")
    assert md.startswith('## 标题 \\{style=\\"position:fixed\\" .x #y onclick=\\"alert(1)\\"}\n\n* ### h \\{.z}')


def test_html_in_text_is_shown_as_text() -> None:
    assert "<script>alert(1)</script> <img src=x onerror=alert(1)>" in shown(content("html-as-text"))


def test_unsafe_links_keep_their_text_and_unsafe_images_go() -> None:
    for name in [n for n in BODIES if n.startswith("link-") and n not in ("link-title-breakout", "link-text-breakout", "link-paren-url")]:
        md = content(name)
        assert urls(MarkdownIt("commonmark").parse(md)) == ["https://wallstreetcn.com/articles/1"], (name, md)
        assert shown(md).split("\n")[0] == BeautifulSoup(BODIES[name], "lxml").a.get_text(), (name, md)
    md = content("image-schemes")
    assert urls(MarkdownIt("commonmark").parse(md)) == ["https://example.org/ok.png", "https://wallstreetcn.com/articles/1"]


def test_titles_and_alts_stay_inside_their_link() -> None:
    tokens = MarkdownIt("commonmark").parse(content("link-title-breakout"))
    assert urls(tokens)[0] == "https://example.org/a"
    assert len(urls(tokens)) == 2  # the link and the origin link: nothing broke out
    image = BeautifulSoup(MarkdownIt("commonmark").render(content("image-alt-blank-line")), "lxml").find("img")
    assert image["src"] == "https://example.org/i.png"
    assert image["alt"] == "a <div>b</div> `c"
    for name in ("link-title-breakout", "image-alt-breakout"):  # naming a script URL: emptied
        assert "javascript" not in content(name), name


def test_fences_cannot_be_broken_out_of() -> None:
    md = MarkdownIt("commonmark")
    for name, code in {"fence-backticks-inside": "```\n", "fence-tildes-inside": "~~~~\n```` \n",
                       "fence-cr-line-ends": "a\n```\n<script>alert(1)</script>\n"}.items():
        fences = [t for t in md.parse(content(name)) if t.type == "fence"]
        assert [t.content for t in fences] == [code], name
    assert [t.info for t in md.parse(content("fence-lang-backtick")) if t.type == "fence"] == ["py"]
    assert [t.info for t in md.parse(content("fence-lang-class")) if t.type == "fence"] == ["a"]


@pytest.mark.parametrize("name", ["fence-in-quote", "fence-in-ordered-list", "fence-in-nested-quote"])
def test_fences_in_quotes_and_lists_stay_there(name: str) -> None:
    tokens = MarkdownIt("commonmark").parse(content(name))
    fence = next(t for t in tokens if t.type == "fence")
    assert fence.level > 0  # inside the quote or list item
    assert "<" in fence.content


def test_forged_literal_markdown_is_plain_text() -> None:
    assert "x" in shown(content("data-md-p"))
    assert "ayb" in shown(content("data-md-span"))


def test_formulas_keep_their_delimiters_and_text() -> None:
    md = content("formula-inline-breakout")
    assert md.startswith("$x\\\\$ \\<script>alert(1)\\</script> \\\\$y$")
    assert shown(md).startswith("$x\\$ <script>alert(1)</script> \\$y$")
    block = literal.math("a\n\n# h\n<div>\n- x\n1. y\n```\n$$", block=True)
    assert block == "$$\na\n\\# h\n\\<div>\n\\- x\n1\\. y\n\\```\n\\\\$\\\\$\n$$"


def test_destination() -> None:
    assert destination("https://example.org/a b") == "https://example.org/a%20b"
    assert destination("HTTP://example.org/") == "HTTP://example.org/"
    assert destination("/relative") == "/relative" and destination("/relative", relative=False) is None
    assert destination("//cdn.example.org/x", relative=False) == "//cdn.example.org/x"
    for url in ("javascript:x", " JaVa\tScRiPt:x", "&#106;avascript:x", "&amp;#106;avascript:x", "java\\script:x",
                "vbscript:x", "data:text/html,x", "file:///etc/passwd", "\x00javascript:x", "", "   "):
        assert destination(url) is None, url


def test_repaired_title_reads_back() -> None:
    post = check(render(article(title=TITLES["title-controls"]), CONFIG))
    assert post["title"] == "控制\n字符"
    assert check(render(article(title=TITLES["title-surrogate"]), CONFIG))["title"] == "标题\ufffd结尾"


def test_invalid_front_matter_is_a_named_failure() -> None:
    with pytest.raises(RenderError) as error:
        render(article(source="wall\ud800"), CONFIG)
    assert error.value.reason == "front-matter"


#: Every element a body may hold (hand-made list), wrapped around hostile text and code: the
#: converter's handling of each (ruby text is a NavigableString subclass, for one) keeps it text.
ELEMENTS = ("a abbr address article aside b bdi bdo big blockquote button caption center cite code dd del details dfn dialog "
            "div dl dt em figcaption figure font footer h1 h2 h3 h4 h5 h6 header i ins kbd label legend li main mark menu "
            "nav ol p picture pre q rp rt ruby s samp section small span strike strong sub summary sup table td th tr tt u "
            "ul var xmp listing plaintext noembed noframes textarea title").split()


@pytest.mark.parametrize("element", ELEMENTS)
def test_any_element_around_hostile_text(element: str) -> None:
    for html in (f"<p>a<{element}>b &lt;x&gt; {{{{% c %}}}}</{element}>d</p>",
                 f"<{element}><p>&lt;script&gt;</p><{element}>&lt;!--more--&gt;</{element}></{element}>",
                 f"<ul><li><{element}>x<pre><code>&lt;b&gt;\n```\n</code></pre></{element}></li></ul>"):
        try:
            check(render(article(body_html=html), CONFIG))
        except RenderError as error:
            assert "empty body" in str(error)


# --- properties -------------------------------------------------------------------------------

#: Pieces random text is built from: surrogates, controls, shortcode, fence and HTML fragments.
PIECES = st.sampled_from([
    "{{<", "{{%", ">}}", "%}}", "{{</*", "*/>}}", "<!--more-->", "```", "~~~~", "`", "$$", "$", "\ud800", "\udfff",
    "\x00", "\x1b", "\x85", "\u2028", "\ufffe", "\r", "\n", "\n\n", "<script>", "</p>", "<p>", "<pre><code>",
    "</code></pre>", "<code>", "</code>", "<blockquote>", "<li>", "&lt;", "&#106;", "[x](javascript:a)", "![", "](",
    "* ", "# ", "> ", "1. ", "    ", "\\", '"', "'", "\t", "---", "data-md=", "&", ";",
    "\U0010ff01", "\U0010ff06", "\U0010fff0", "&#x10ff01;", "&#1;", "{", "}", "## ", "<h2>", "<rt>",
])
TEXT = st.lists(st.one_of(st.text(max_size=8), PIECES), max_size=24).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=TEXT, body=TEXT)
def test_any_title_and_body_give_a_safe_file(title: str, body: str) -> None:
    try:
        document = render(article(title=title or "t", body_html=f"<p>{body}</p>"), CONFIG)
    except RenderError as error:
        assert error.reason == "render" and "empty body" in str(error)
        return
    check(document)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=TEXT)
def test_any_code_gives_a_safe_file(body: str) -> None:
    check(render(article(body_html=f"<blockquote><pre><code>{body}</code></pre><p><code>{body}</code>x</p></blockquote>"), CONFIG))
