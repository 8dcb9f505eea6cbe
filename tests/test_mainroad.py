"""What a reader of the site sees: the pipeline's output built by the real Hugo with the site's
theme, Mainroad (a copy in ``tests/themes/mainroad``, see its PROVENANCE), and the example
config (``site/hugo.toml`` with ``theme = "mainroad"`` on top; ``site/layouts`` left out).

Every recorded article page (wallstreetcn API answers, WeChat articles and the image share),
the recorded WeChat fragments and hand-made WeChat shares are crawled by one backfill into one
site, built once; the home
page, the section and taxonomy lists, every article page, the sidebar widgets and the RSS feed
are checked from the HTML Hugo wrote, then headless Chromium opens the pages over a local HTTP
server (``tests/browser.py``). The crawl localizes every image (``IMAGES_MODE=localize``: page
bundles) from made-up pictures on that server standing in for the image hosts
(``IMAGE_URL_REWRITES``); the server stops serving them before the browser opens the site,
which needs no network.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from http.server import SimpleHTTPRequestHandler
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

import frontmatter
import pytest
from bs4 import BeautifulSoup, Tag
from PIL import Image

from crawler.replay import ReplayHTTPServer
from crawler.sources import wallstreetcn, wechat
from pipelines.summary import ELLIPSIS
from tests.browser import Browser
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
#: Recorded WeChat article bodies (``#js_content`` only: a table, code, formulas, footnotes, images).
FRAGMENTS = ("markdownPaper_paper1-wechat", "markdownPaper_formula")
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


#: Sizes of the made-up pictures standing in for the image hosts, picked by the path's hash:
#: wider than any column, taller than the screen, small.
PICTURE_SIZES = ((1800, 360), (480, 900), (320, 200))


@cache
def picture(path: str) -> bytes:
    """A hand-made PNG for ``path`` (its colour and size from the path's hash)."""
    digest = hashlib.sha256(path.encode()).digest()
    out = BytesIO()
    Image.new("RGB", PICTURE_SIZES[digest[0] % len(PICTURE_SIZES)], tuple(digest[1:4])).save(out, "PNG")
    return out.getvalue()


class SiteServer(ReplayHTTPServer):
    """The built ``public/`` over HTTP on 127.0.0.1, and, while ``pictures`` is on, made-up pictures
    under ``/images/<host>/<path>`` standing in for the image hosts (the crawl's rewrite rules point there)."""

    def __init__(self, public: Path):
        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args: object, **kwargs: object) -> None:
                super().__init__(*args, directory=str(public), **kwargs)  # type: ignore[arg-type]

            def do_GET(self) -> None:
                if not (self.path.startswith("/images/") and server.pictures):
                    return super().do_GET()
                body = picture(urlsplit(self.path).path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:  # quiet: the test reports what matters
                pass

        server = self
        self.pictures = True
        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


def fragment_pages() -> dict[str, str]:
    """Each recorded fragment in a hand-made page around it, with the variables real pages use."""
    pages = {}
    for minute, name in enumerate(FRAGMENTS):
        token = re.sub(r"[^A-Za-z0-9]", "", name)
        body = f'<div id="js_content">{(WECHAT / "fragments" / f"{name}.html").read_text(encoding="utf-8")}</div>'
        pages[f"{name}.html"] = _SCRIPT.format(body=body, vars=f"""
var ct = "{1739000000 + 60 * minute}";
var nickname = htmlDecode("mdnice");
var msg_title = '{name}'.html(false);
var msg_link = "https://mp.weixin.qq.com/s/{token}";
""")
    return pages


@dataclass
class Site:
    root: Path
    log: str
    returncode: int
    server: SiteServer
    screenshots: Path

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
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("mainroad")
    root = tmp / "site"
    root.mkdir()
    server = SiteServer(root / "public")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        config = (ROOT / "site" / "hugo.toml").read_text(encoding="utf-8")
        (root / "hugo.toml").write_text('theme = "mainroad"\n' + config, encoding="utf-8")
        saved = []  # hand-made pages, written as files the backfill reads
        for name, html in (HANDMADE | fragment_pages()).items():
            (tmp / name).write_text(html, encoding="utf-8")
            saved.append(tmp / name)
        urls = tmp / "urls.txt"
        urls.write_text("".join(f"{path}\n" for path in [*RECORDED, *saved]), encoding="utf-8")
        # Every image (body and thumbnail) downloaded from the local server into the article's bundle.
        rewrites = json.dumps([[r"^https?://", f"{server.url}/images/"]])
        crawl = run_crawl("backfill", root, f"urls_file={urls}", settings={"IMAGE_URL_REWRITES": rewrites, "IMAGES_MODE": "localize"})
        assert crawl.returncode == 0, crawl.log
        assert crawl.report()["images_failed"] == [], crawl.report()["images_failed"]
        server.pictures = False  # from here on the site has to show its own copies
        proc = subprocess.run([str(HUGO), "build", "--source", str(root), "--themesDir", str(THEMES), "--printPathWarnings",
                               "--cacheDir", str(tmp / "cache")], capture_output=True, text=True, timeout=120)
        # SCREENSHOTS_DIR: where CI keeps them as artifacts (else beside the site, in pytest's tmp)
        screenshots = Path(os.environ.get("SCREENSHOTS_DIR") or tmp / "screenshots").resolve()
        yield Site(root, proc.stdout + proc.stderr, proc.returncode, server, screenshots)
    finally:
        server.shutdown()
        server.server_close()


def meta(source: Path) -> dict:
    return frontmatter.load(source).metadata


def shown_summary(source: Path) -> str:
    """The text Hugo shows of ``source``'s front-matter summary (rendered as Markdown; the
    typographer makes the cut mark ``...`` an ellipsis, the text's own dots are escaped)."""
    text = typographic(commonmark(meta(source)["summary"]).get_text())
    return text[: -len(ELLIPSIS)] + "…" if text.endswith(ELLIPSIS) else text


def source_name(source: Path) -> str:
    """The source of an article file: its folder under ``content/posts/`` (a bundle sits one deeper)."""
    parts = source.parts
    return parts[len(parts) - parts[::-1].index("content") + 1]


def thumbnail_src(thumbnail: str) -> str:
    """Where Mainroad points a ``thumbnail`` (through ``relURL``: a localized one is a site path)."""
    return thumbnail if thumbnail.startswith(("http://", "https://")) else "/" + thumbnail.lstrip("/")


def zoned(date: str) -> str:
    return date.replace(" ", "T") + "+08:00"


def entries(site: Site, path: str) -> list[Tag]:
    """The entries of the list at ``path``, over all its pages (Mainroad shows 10 a page)."""
    found, number = [], 1
    while (site.root / "public" / path.strip("/") / (f"page/{number}" if number > 1 else "") / "index.html").exists():
        found += site.html(path + (f"page/{number}/" if number > 1 else "")).select("main article.list__item")
        number += 1
    return found


def check_entry(entry: Tag, source: Path) -> None:
    """A list entry: the title on one short line, the summary, the thumbnail, the date; nothing of the footer."""
    data = meta(source)
    title = entry.select_one(".list__title a").get_text().strip()
    # short: a text share has no title of its own, its first line (cut short) stands for one
    assert title == data["title"] and "\n" not in title and len(title) <= 65, source
    excerpt = entry.select_one(".list__excerpt")
    assert typographic(excerpt.get_text()) == shown_summary(source), source
    assert excerpt.find(["a", "img"]) is None and not any(text in excerpt.get_text() for text in FOOTER_TEXTS), source
    thumbnails = [img["src"] for img in entry.select("figure.list__thumbnail img")]
    assert thumbnails == ([thumbnail_src(data["thumbnail"])] if data["thumbnail"] else []), source
    assert entry.select_one(".list__meta time")["datetime"] == zoned(data["date"]), source


def test_site_builds_without_warnings(site: Site) -> None:
    assert site.returncode == 0, site.log
    assert "WARN" not in site.log and "ERROR" not in site.log, site.log
    sources = site.sources()
    assert len(sources) == len(RECORDED) + len(HANDMADE) + len(FRAGMENTS)
    assert {source_name(s) for s in sources} == {"wallstreetcn", "wechat"}
    assert all(s.name == "index.md" for s in sources)  # localized: page bundles


def test_summaries_are_never_empty(site: Site) -> None:
    summaries = {meta(s)["title"]: meta(s)["summary"] for s in site.sources()}
    assert all(summaries.values()), summaries
    assert summaries["四张图看懂十月汽车销量"] == "四张图看懂十月的汽车销量"  # og:description
    assert summaries["一图读懂：全是图片的文章"] == "一图读懂：全是图片的文章"  # the title


def test_home_page_lists_every_article_as_a_reader_should_see_it(site: Site) -> None:
    home = entries(site, "/")
    assert len(home) > 10  # over more than one page
    sources = sorted(site.sources(), key=lambda s: meta(s)["date"], reverse=True)
    assert [e.select_one(".list__title a")["href"] for e in home] == [site.url(s) for s in sources]
    for entry, source in zip(home, sources, strict=True):
        check_entry(entry, source)


def test_section_and_taxonomy_lists_show_the_same_entries(site: Site) -> None:
    by_url = {site.url(s): s for s in site.sources()}
    for path in ("/posts/", "/categories/wechat/", "/categories/wallstreetcn/",
                 "/tags/wechat/", "/tags/wallstreetcn/"):
        listed = entries(site, path)
        name = path.strip("/").split("/")[-1]
        expected = {url for url, s in by_url.items() if name == "posts" or source_name(s) == name}
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
        assert origin.get_text() == source_name(source) and origin["href"].startswith("https://"), source
        disclaimer = {"wechat": wechat.DISCLAIMER, "wallstreetcn": wallstreetcn.DISCLAIMER}[source_name(source)]
        assert typographic(disclaimer.splitlines()[-1]) in "".join(lines[-4:]), source
        if source_name(source) == "wechat":  # every WeChat article credits its account
            assert any(line.startswith("来源：") for line in lines[-4:]), source
        images = [img["src"] for img in page.select("main img")]
        if data["thumbnail"]:
            assert images.count(thumbnail_src(data["thumbnail"])) == 1, source  # the thumbnail, once
            assert page.select_one("figure.post__thumbnail img")["src"] == thumbnail_src(data["thumbnail"])
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


#: What a reader sees of the open page, measured by the browser: every image and whether it
#: loaded, every element sticking out of its column (the main column or the sidebar; elements
#: inside a box that scrolls or clips, such as a code block, stay in that box), whether the page
#: scrolls sideways, and the title and date with their size on screen.
PAGE_CHECK = """(() => {
  const shown = el => { if (!el) return null; const r = el.getBoundingClientRect();
    return {text: el.innerText.trim(), datetime: el.getAttribute('datetime'), width: r.width, height: r.height}; };
  const images = [...document.images].map(img => ({src: img.currentSrc || img.src, loaded: img.complete && img.naturalWidth > 0}));
  const overflowing = [];
  for (const column of document.querySelectorAll('.primary, .sidebar')) {
    const box = column.getBoundingClientRect();
    for (const el of column.querySelectorAll('*')) {
      let clipped = false;
      for (let up = el.parentElement; up && up !== column; up = up.parentElement) {
        if (getComputedStyle(up).overflowX !== 'visible') { clipped = true; break; }
      }
      const r = el.getBoundingClientRect();
      if (!clipped && r.width > 0 && (r.right > box.right + 0.5 || r.left < box.left - 0.5)) {
        overflowing.push(`${column.className} > ${el.tagName.toLowerCase()}.${el.className}: ${Math.round(r.left)}..${Math.round(r.right)} outside ${Math.round(box.left)}..${Math.round(box.right)}`);
      }
    }
  }
  const root = document.documentElement;
  return {images, overflowing, sideways: root.scrollWidth > root.clientWidth,
          title: shown(document.querySelector('h1.post__title')), date: shown(document.querySelector('.post__meta time')),
          entries: [...document.querySelectorAll('article.list__item')].map(e => ({
            title: shown(e.querySelector('.list__title')), date: shown(e.querySelector('.list__meta time'))}))};
})()"""
#: Viewports: a desktop screen (sidebar beside the articles) and a phone (one column).
VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}


def test_pages_in_a_real_browser(site: Site) -> None:
    """Headless Chromium opens the home page and an article of each source and of each WeChat
    share kind: every image loaded, nothing sticks out of its column, the title and date show.
    Screenshots are kept for a person to look at (their folder is printed)."""
    print(f"\nscreenshots of the Mainroad pages: {site.screenshots}")
    by_title = {meta(s)["title"]: s for s in site.sources()}
    articles = [by_title[title] for title in ("马克龙豪掷1090亿开欧洲「星际之门」，Mistral狂飙登顶法国APP榜首！",
                                              "AI编程害死我了，给我的抓包软件埋了一个大雷！",
                                              "新能源车均价创6年新低，价格战「寒气」侵蚀供应链",
                                              "四张图看懂十月汽车销量")]
    articles += [by_title[name] for name in FRAGMENTS] + [s for s in site.sources() if "HandmadeTextShare01" in str(s)]
    pages = {"home": "/", **{site.url(s).strip("/").split("/")[-1]: site.url(s) for s in articles}}
    with Browser(site.root.parent / "chromium-profile") as browser:
        for viewport, (width, height) in VIEWPORTS.items():
            for name, path in pages.items():
                requested = browser.open(site.server.url + path, width, height)
                seen = browser.evaluate(PAGE_CHECK)
                browser.screenshot(site.screenshots / f"{name}-{viewport}.jpg")
                where = f"{path} ({viewport}; screenshot {site.screenshots / f'{name}-{viewport}.jpg'})"
                assert [url for url in requested if not url.startswith(site.server.url)] == [], where
                assert len(seen["images"]) == len(site.html(path).find_all("img")), where
                assert all(image["loaded"] for image in seen["images"]), (where, seen["images"])
                assert seen["overflowing"] == [] and not seen["sideways"], (where, seen["overflowing"])
                shown = seen["entries"] if path == "/" else [{"title": seen["title"], "date": seen["date"]}]
                assert shown, where
                for entry in shown:
                    assert entry["title"]["text"] and entry["title"]["height"] > 0, (where, entry)
                    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", entry["date"]["text"]), (where, entry)
                    assert entry["date"]["datetime"].endswith("+08:00") and entry["date"]["height"] > 0, (where, entry)
                if path != "/":
                    source = next(s for s in articles if site.url(s) == path)
                    assert seen["title"]["text"] == meta(source)["title"] and seen["date"]["datetime"] == zoned(meta(source)["date"])
