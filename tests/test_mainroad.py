"""What a reader of the site sees: the pipeline's output built by the real Hugo with the site's
theme, Mainroad (a copy in ``tests/themes/mainroad``, see its PROVENANCE), and the example
config (``site/hugo.toml`` with ``theme = "mainroad"`` on top; ``site/layouts`` left out).

Every recorded article page (wallstreetcn API answers, WeChat articles and the image share)
and hand-made WeChat shares are crawled by one backfill into one site, built once; the home
page, the section and taxonomy lists, every article page, the sidebar widgets and the RSS feed
are checked from the HTML Hugo wrote.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import frontmatter
import pytest
from bs4 import BeautifulSoup, Tag

from crawler.sources import wallstreetcn, wechat
from tests.conftest import ROOT, WECHAT, WSCN, run_crawl
from tests.test_hugo_build import HUGO, commonmark, typographic

THEMES = ROOT / "tests" / "themes"
#: The recorded pages that are articles (the others are error pages and a share of an unrecorded original).
RECORDED = [
    WSCN / "article-3740710.json",
    WSCN / "article-3782700.json",
    *(WECHAT / "pages" / f"{name}.html.gz" for name in (
        "wae_normal_01_xuanyuan_code", "wae_normal_03_yinji_blockquote_qr", "wae_normal_c01_jinbang_audio_svg_gif",
        "wsg_2018_mpvoice_cjrb", "wae_imgshare_01_36kr_type8")),
]
#: Texts of the body's last lines that must never show in a list entry.
FOOTER_TEXTS = ("来源：", wechat.DISCLAIMER, wallstreetcn.DISCLAIMER.splitlines()[-1][:20])

_SCRIPT = "<html><head><script>{vars}</script></head><body><div id=\"js_article\"></div>{body}</body></html>"
#: Hand-made WeChat pages (no real one of these shapes is recorded), in the variables real pages use.
HANDMADE = {
    # A text share (item_show_type 10): no title of its own, the whole post is its text.
    "text-share.html": _SCRIPT.format(body="", vars="""
var item_show_type = "10";
var ct = "1762400000";
var nickname = htmlDecode("某个公众号");
var msg_title = '';
var msg_link = "https://mp.weixin.qq.com/s/HandmadeTextShare01";
var TextContentNoEncode = window.a_value_which_never_exists || '今天读到一篇很长的文章，讲的是新能源汽车的价格战如何一路传导到上游供应链，值得一读再读，也值得转给每一位关心汽车行业的朋友\\x0a第二行：价格战还会持续多久？\\x0a\\x0a第二段：欢迎留言讨论。';
"""),
    # A picture-only image share (item_show_type 8): four pictures, no text; og:description says what they show.
    "image-share-pictures-only.html": _SCRIPT.format(
        body='<meta property="og:description" content="四张图看懂十月的汽车销量">', vars="""
var item_show_type = "8";
var ct = "1762410000";
var nickname = htmlDecode("某个公众号");
var msg_title = '四张图看懂十月汽车销量';
var msg_link = "https://mp.weixin.qq.com/s/HandmadeImageShare01";
var msg_cdn_url = "https://mmbiz.qpic.cn/mmbiz_jpg/handmadecover01/0?wx_fmt=jpeg";
window.picture_page_info_list = [{cdn_url: 'https://mmbiz.qpic.cn/mmbiz_png/handmadepicture01/0?wx_fmt=png'},
  {cdn_url: 'https://mmbiz.qpic.cn/mmbiz_png/handmadepicture02/0?wx_fmt=png'},
  {cdn_url: 'https://mmbiz.qpic.cn/mmbiz_png/handmadepicture03/0?wx_fmt=png'},
  {cdn_url: 'https://mmbiz.qpic.cn/mmbiz_png/handmadepicture04/0?wx_fmt=png'}];
"""),
    # An article whose text is all in pictures, with no description and no cover: the summary is its title.
    "article-text-in-pictures.html": _SCRIPT.format(
        body='<div id="js_content"><p><img data-src="https://mmbiz.qpic.cn/mmbiz_png/handmadepage01/0?wx_fmt=png"></p>'
             '<p><img data-src="https://mmbiz.qpic.cn/mmbiz_png/handmadepage02/0?wx_fmt=png"></p></div>', vars="""
var ct = "1762420000";
var nickname = htmlDecode("某个公众号");
var msg_title = '一图读懂：全是图片的文章'.html(false);
var msg_link = "https://mp.weixin.qq.com/s/HandmadePictures01";
"""),
}


@dataclass
class Site:
    root: Path
    log: str
    returncode: int

    def sources(self) -> list[Path]:
        return sorted((self.root / "content").rglob("*.md"))

    def html(self, path: str) -> BeautifulSoup:
        """The HTML Hugo wrote at ``path`` (a URL path: ``/``, ``/posts/``)."""
        return BeautifulSoup((self.root / "public" / path.strip("/") / "index.html").read_text(encoding="utf-8"), "lxml")

    def url(self, source: Path) -> str:
        """The URL path of ``source``'s page (Hugo lowercases paths; a bundle's page is its folder)."""
        relative = source.relative_to(self.root / "content").with_suffix("")
        if relative.name == "index":
            relative = relative.parent
        return "/" + str(relative).lower() + "/"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    tmp = tmp_path_factory.mktemp("mainroad")
    root = tmp / "site"
    root.mkdir()
    config = (ROOT / "site" / "hugo.toml").read_text(encoding="utf-8")
    (root / "hugo.toml").write_text('theme = "mainroad"\n' + config, encoding="utf-8")
    handmade = []
    for name, html in HANDMADE.items():
        (tmp / name).write_text(html, encoding="utf-8")
        handmade.append(tmp / name)
    urls = tmp / "urls.txt"
    urls.write_text("".join(f"{path}\n" for path in [*RECORDED, *handmade]), encoding="utf-8")
    crawl = run_crawl("backfill", root, f"urls_file={urls}")
    assert crawl.returncode == 0, crawl.log
    proc = subprocess.run([str(HUGO), "build", "--source", str(root), "--themesDir", str(THEMES), "--printPathWarnings",
                           "--cacheDir", str(tmp / "cache")], capture_output=True, text=True, timeout=120)
    return Site(root, proc.stdout + proc.stderr, proc.returncode)


def meta(source: Path) -> dict:
    return frontmatter.load(source).metadata


def shown_summary(source: Path) -> str:
    """The text Hugo shows of ``source``'s front-matter summary (rendered as Markdown)."""
    return typographic(commonmark(meta(source)["summary"]).get_text())


def zoned(date: str) -> str:
    return date.replace(" ", "T") + "+08:00"


def entries(page: BeautifulSoup) -> list[Tag]:
    return page.select("main article.list__item")


def check_entry(entry: Tag, source: Path) -> None:
    """A list entry: the title on one short line, the summary, the thumbnail, the date; nothing of the footer."""
    data = meta(source)
    title = entry.select_one(".list__title a").get_text().strip()
    assert title == data["title"] and "\n" not in title and len(title) <= 64, source
    excerpt = entry.select_one(".list__excerpt")
    assert typographic(excerpt.get_text()) == shown_summary(source), source
    assert excerpt.find(["a", "img"]) is None and not any(text in excerpt.get_text() for text in FOOTER_TEXTS), source
    thumbnails = [img["src"] for img in entry.select("figure.list__thumbnail img")]
    assert thumbnails == ([data["thumbnail"]] if data["thumbnail"] else []), source
    assert entry.select_one(".list__meta time")["datetime"] == zoned(data["date"]), source


def test_site_builds_without_warnings(site: Site) -> None:
    assert site.returncode == 0, site.log
    assert "WARN" not in site.log and "ERROR" not in site.log, site.log
    sources = site.sources()
    assert len(sources) == len(RECORDED) + len(HANDMADE)
    assert {s.parent.name for s in sources} == {"wallstreetcn", "wechat"}


def test_summaries_are_never_empty(site: Site) -> None:
    summaries = {meta(s)["title"]: meta(s)["summary"] for s in site.sources()}
    assert all(summaries.values()), summaries
    assert summaries["四张图看懂十月汽车销量"] == "四张图看懂十月的汽车销量"  # og:description
    assert summaries["一图读懂：全是图片的文章"] == "一图读懂：全是图片的文章"  # the title


def test_home_page_lists_every_article_as_a_reader_should_see_it(site: Site) -> None:
    home = entries(site.html("/"))
    sources = sorted(site.sources(), key=lambda s: meta(s)["date"], reverse=True)
    assert [e.select_one(".list__title a")["href"] for e in home] == [site.url(s) for s in sources]
    for entry, source in zip(home, sources, strict=True):
        check_entry(entry, source)


def test_section_and_taxonomy_lists_show_the_same_entries(site: Site) -> None:
    by_url = {site.url(s): s for s in site.sources()}
    for path in ("/posts/", "/categories/wechat/", "/categories/wallstreetcn/",
                 "/tags/wechat/", "/tags/wallstreetcn/"):
        listed = entries(site.html(path))
        name = path.strip("/").split("/")[-1]
        expected = {url for url, s in by_url.items() if name == "posts" or s.parent.name == name}
        assert {e.select_one(".list__title a")["href"] for e in listed} == expected, path
        for entry in listed:
            check_entry(entry, by_url[entry.select_one(".list__title a")["href"]])


def test_article_pages_show_title_date_body_and_footer(site: Site) -> None:
    for source in site.sources():
        data, post = meta(source), frontmatter.load(source)
        page = site.html(site.url(source))
        assert page.select_one("h1.post__title").get_text() == data["title"], source
        assert page.select_one(".post__meta time")["datetime"] == zoned(data["date"]), source
        content = page.select_one("div.post__content")
        reference = commonmark(post.content)
        assert typographic(content.get_text()) == typographic(reference.get_text()), source
        lines = [typographic(p.get_text()) for p in content.find_all("p", recursive=False)]
        origin = content.find_all("p", recursive=False)[-1].find("a")
        assert origin.get_text() == source.parent.name and origin["href"].startswith("https://"), source
        disclaimer = {"wechat": wechat.DISCLAIMER, "wallstreetcn": wallstreetcn.DISCLAIMER}[source.parent.name]
        assert typographic(disclaimer.splitlines()[-1]) in "".join(lines[-4:]), source
        if source.parent.name == "wechat":  # every WeChat article credits its account
            assert any(line.startswith("来源：") for line in lines[-4:]), source
        images = [img["src"] for img in page.select("main img")]
        if data["thumbnail"]:
            assert images.count(data["thumbnail"]) == 1, source  # the thumbnail, once
            assert page.select_one("figure.post__thumbnail img")["src"] == data["thumbnail"]
        else:
            assert page.select_one("figure.post__thumbnail") is None, source


def test_sidebar_widgets_show_recent_posts_and_tags(site: Site) -> None:
    sources = sorted(site.sources(), key=lambda s: meta(s)["date"], reverse=True)
    recent = [(site.url(s), meta(s)["title"]) for s in sources[:10]]
    for path in ("/", "/posts/", "/tags/wechat/", site.url(sources[-1])):
        sidebar = site.html(path).select_one("aside.sidebar")
        shown = [(a["href"], a.get_text()) for a in sidebar.select(".widget-recent a.widget__link")]
        assert shown == recent, path
        # Hugo title-cases term titles by default (capitalizeListTitles)
        assert [a.get_text() for a in sidebar.select(".widget-taglist a")] == ["Wallstreetcn", "Wechat"], path
        assert [a["href"] for a in sidebar.select(".widget-taglist a")] == ["/tags/wallstreetcn/", "/tags/wechat/"], path
        assert sidebar.select_one(".widget-search form") is not None, path


def test_rss_feed_carries_titles_links_and_summaries(site: Site) -> None:
    channel = ET.parse(site.root / "public" / "index.xml").getroot().find("channel")
    items = {item.findtext("link"): item for item in channel.findall("item")}
    sources = site.sources()
    assert set(items) == {"https://example.org" + site.url(s) for s in sources}
    for source in sources:
        item = items["https://example.org" + site.url(source)]
        assert item.findtext("title") == meta(source)["title"]
        description = BeautifulSoup(item.findtext("description"), "lxml").get_text()
        assert typographic(description) == shown_summary(source), source
        assert not any(text in description for text in FOOTER_TEXTS), source


def test_no_page_asks_the_network_for_fonts_or_scripts(site: Site) -> None:
    """The example config loads no Google Fonts (blocked in mainland China, no CJK glyphs)."""
    for path in ("/", site.url(site.sources()[0])):
        page = site.html(path)
        external = [tag.get("href") or tag.get("src") for tag in page.find_all(["link", "script"])
                    if re.match(r"https?://|//", tag.get("href") or tag.get("src") or "")]
        assert external == [], path
