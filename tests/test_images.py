"""Images the site owns (``IMAGES_MODE=localize``): Pillow's checks as plain functions, then the
recorded wallstreetcn articles crawled through the real downloader with their image URLs rewritten
(``-s IMAGE_URL_REWRITES`` as JSON) to a mock server serving images made with Pillow in the test,
bad files among them; the bundles built by the real Hugo; a rerun; and a switch back to rewrite."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import frontmatter
import pytest
from bs4 import BeautifulSoup
from PIL import Image

from crawler.checks import check_settings
from crawler.media import referer_for, site_folder
from pipelines.imagecheck import ImageRejected, check_image, looks_like_markup
from pipelines.images import ImageRewriter, article_image_urls
from pipelines.bundles import remove_bundle, stale_files
from pipelines.paths import UnsafePath, bundle_path
from pipelines.thumbnails import make_thumbnail
from tests import imagefactory
from tests.conftest import ROOT, WSCN, CrawlResult, MockServer, free_routes, run_crawl
from tests.test_hugo_build import HUGO

# --- Pillow checks (plain functions) -------------------------------------------------------------

GOOD = {
    "png_alpha": ("PNG", "png"),
    "animated_gif": ("GIF", "gif"),
    "jpeg_exif": ("JPEG", "jpg"),
    "webp": ("WEBP", "webp"),
}


@pytest.mark.parametrize("maker", sorted(GOOD))
def test_good_images_are_named_by_content_and_real_format(maker: str) -> None:
    data = getattr(imagefactory, maker)()
    checked = check_image(data)
    assert (checked.format, checked.extension) == GOOD[maker]
    assert checked.name == f"{hashlib.sha256(data).hexdigest()[:20]}.{GOOD[maker][1]}"
    assert check_image(data).name == checked.name  # stable: a rerun names it the same


def test_animated_gif_counts_its_frames() -> None:
    assert check_image(imagefactory.animated_gif()).frames == 3


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # ignored by imagecheck; pytest resets filters
@pytest.mark.parametrize(("data", "reason"), [
    (b"", "empty"),
    (imagefactory.HTML_PAGE, "html-not-image"),
    (b"\xef\xbb\xbf  \n<HTML><body>login</body></HTML>", "html-not-image"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "html-not-image"),
    (b"GIF89a" + b"\x00" * 3, "not-an-image"),
    (imagefactory.animated_gif()[:-3], "corrupt-image"),
    (imagefactory.jpeg_exif()[:-100], "corrupt-image"),
    (b"just some bytes that are no image at all", "not-an-image"),
    (imagefactory.corrupt_png(), "corrupt-image"),
    (imagefactory.bomb_png(), "too-many-pixels"),
])
def test_bad_files_are_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ImageRejected) as refused:
        check_image(data)
    assert refused.value.reason == reason, refused.value


def test_pixel_limit_is_a_setting_and_refuses_before_decoding() -> None:
    png = imagefactory.bomb_png(side=3000)  # 9 M pixels: under Pillow's own limit, over ours
    assert check_image(png, max_pixels=10_000_000).width == 3000
    with pytest.raises(ImageRejected, match="3000×3000 is over 1000000") as refused:
        check_image(png, max_pixels=1_000_000)
    assert refused.value.reason == "too-many-pixels"


def test_known_placeholder_is_refused_by_hash() -> None:
    data = imagefactory.placeholder_png()
    assert check_image(data).format == "PNG"
    with pytest.raises(ImageRejected) as refused:
        check_image(data, placeholder_hashes=[hashlib.sha256(data).hexdigest().upper()])
    assert refused.value.reason == "placeholder-image"


def test_other_formats_than_the_webs_are_refused() -> None:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (2, 2)).save(out, "TIFF")
    with pytest.raises(ImageRejected) as refused:
        check_image(out.getvalue())
    assert refused.value.reason == "unsupported-format"
    assert not looks_like_markup(imagefactory.png_alpha())


def test_image_urls_are_the_rendered_ones_after_the_rules() -> None:
    body = ('<p><img src=" https://a.example/1.png "></p><script><img src="https://a.example/no.png"></script>'
            '<p><img src="https://a.example/1.png"><img src="javascript:alert(1)"></p>')  # hand-made
    urls = article_image_urls(body, "https://a.example/c.jpg", ImageRewriter([(r"^https://a\.example/", "https://b.example/")]))
    assert urls == ["https://b.example/1.png", "javascript:alert(1)", "https://b.example/c.jpg"]


def test_referer_per_host_and_parent_domain() -> None:
    referers = {"qpic.cn": "https://mp.weixin.qq.com/", "awtmt.com": "https://wallstreetcn.com/", "x.org": ""}
    assert referer_for("https://mmbiz.qpic.cn/a/640?wx_fmt=png", referers) == "https://mp.weixin.qq.com/"
    assert referer_for("https://wpimg-wscn.awtmt.com/a.png", referers) == "https://wallstreetcn.com/"
    assert referer_for("https://cdn.x.org/a.png", referers) is None
    assert referer_for("https://evilqpic.cn/a.png", referers) is None


def test_bundle_path_and_its_site_folder(tmp_path: Path) -> None:
    index = bundle_path(tmp_path, "content/posts/{source}/{id}.md", source="wechat", id="s_AbC")
    assert index == tmp_path.resolve() / "content/posts/wechat/s_AbC/index.md"
    assert site_folder(tmp_path.resolve(), index, lowercase=True) == "posts/wechat/s_abc/"
    assert site_folder(tmp_path.resolve(), index, lowercase=False) == "posts/wechat/s_AbC/"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (tmp_path / "content/posts/wechat").mkdir(parents=True)
    (tmp_path / "content/posts/wechat/s_evil").symlink_to(outside)
    with pytest.raises(UnsafePath):
        bundle_path(tmp_path, "content/posts/{source}/{id}.md", source="wechat", id="s_evil", inside=tmp_path / "content")


def test_list_page_copy_of_the_cover(tmp_path: Path) -> None:
    (tmp_path / "c.jpg").write_bytes(imagefactory.jpeg_exif())
    (tmp_path / "a.gif").write_bytes(imagefactory.animated_gif())
    name = make_thumbnail(tmp_path, "c.jpg", 2)
    assert name == "c-w2.jpg"
    data = (tmp_path / name).read_bytes()
    with Image.open(tmp_path / name) as small:
        assert (small.format, small.size) == ("JPEG", (2, 4))  # upright: EXIF orientation 6 applied
    (tmp_path / name).unlink()
    assert make_thumbnail(tmp_path, "c.jpg", 2) == name and (tmp_path / name).read_bytes() == data  # same bytes again
    assert make_thumbnail(tmp_path, "c.jpg", 4) is None  # narrow enough already (4 wide upright)
    assert make_thumbnail(tmp_path, "a.gif", 2) is None  # an animation stays as it is
    assert (tmp_path / "c.jpg").read_bytes() == imagefactory.jpeg_exif()


def test_only_our_files_leave_a_bundle(tmp_path: Path) -> None:
    folder = tmp_path / "s_x"
    folder.mkdir()
    ours = ["0123456789abcdef0123.png", "0123456789abcdef0123-w640.png", "fedcba98765432100123.gif"]
    theirs = ["notes.txt", "cover.png", "0123456789ABCDEF0123.png"]
    for name in [*ours, *theirs, "index.md"]:
        (folder / name).write_bytes(b"x")
    assert [p.name for p in stale_files(folder, {"fedcba98765432100123.gif"})] == ours[1::-1]
    removed = remove_bundle(folder / "index.md")
    assert sorted(p.name for p in removed) == sorted([*ours, "index.md"])
    assert sorted(p.name for p in folder.iterdir()) == sorted(theirs)  # someone else's files stay, and the folder
    for name in theirs:
        (folder / name).unlink()
    (folder / "index.md").write_bytes(b"x")
    remove_bundle(folder / "index.md")
    assert not folder.exists()


def test_image_settings_are_checked_and_json_is_handed_on() -> None:
    from scrapy.settings import Settings

    from crawler.arguments import Refused

    settings = Settings({"IMAGE_URL_REWRITES": '[["^https?://[^/]+/(.*)$", "http://127.0.0.1:8000/img/\\\\1"]]',
                         "IMAGES_MODE": "localize", "IMAGES_REFERERS": '{"qpic.cn": "https://mp.weixin.qq.com/"}',
                         "ARTICLE_PATH": "content/posts/{source}/{id}.md"})
    check_settings(settings)
    assert settings.getlist("IMAGE_URL_REWRITES") == [["^https?://[^/]+/(.*)$", "http://127.0.0.1:8000/img/\\1"]]
    assert settings.getdict("IMAGES_REFERERS") == {"qpic.cn": "https://mp.weixin.qq.com/"}
    for name, value in [("IMAGES_MODE", "download"), ("IMAGES_PLACEHOLDER_HASHES", "abc"), ("IMAGES_MAX_PIXELS", "0"),
                        ("IMAGES_REFERERS", '{"qpic.cn": "ftp://x"}')]:
        with pytest.raises(Refused, match=name):
            check_settings(Settings({name: value}))
    with pytest.raises(Refused, match="ARTICLE_PATH.*content/"):
        check_settings(Settings({"IMAGES_MODE": "localize", "ARTICLE_PATH": "posts/{source}/{id}.md"}))
    with pytest.raises(Refused, match="IMAGES_MODE='localize' is refused .workers on Redis write no image files"):
        check_settings(Settings({"IMAGES_MODE": "localize", "REDIS_URL": "redis://127.0.0.1:6379/0",
                                 "ARTICLE_PATH": "content/posts/{source}/{id}.md"}))


# --- A real crawl, a Hugo build, a rerun, a switch back ------------------------------------------

ARTICLE = "3740710"  #: wallstreetcn article with 21 WeChat-mirror body images and a cover
#: What the mock server answers for some of the article's image URLs (by position in the article;
#: the cover is last); the others get a copy of the PNG with alpha. Made with Pillow here.
SERVED = {0: "png_alpha", 1: "jpeg_exif", 2: "webp", 10: "animated_gif", 3: "corrupt_png", 4: "bomb_png",
          5: "html", 6: "placeholder_png", 7: None, 21: "jpeg_exif"}  # None: no route (404)
FAILED = {3: "corrupt-image", 4: "too-many-pixels", 5: "html-not-image", 6: "placeholder-image", 7: "http-404"}
#: 3782700's first image goes to a private address: the outbound guard refuses it, nothing is sent.
PRIVATE = "https://wpimg-wscn.awtmt.com/5c24b9c5-d556-440c-856a-c8e374fe5a88.png"


def served_bytes(kind: str) -> bytes:
    return imagefactory.HTML_PAGE if kind == "html" else getattr(imagefactory, kind)()


def article_urls(article_id: str, rules: list[list[str]] | None = None) -> list[str]:
    """The article's image URLs after ``rules`` (none: as the recorded answer has them)."""
    data = json.loads((WSCN / f"article-{article_id}.json").read_text(encoding="utf-8"))["data"]
    return article_image_urls(data["content"], (data.get("image") or {}).get("uri", ""), ImageRewriter(rules or []))


def image_routes(folder: Path) -> tuple[list[dict[str, object]], dict[str, bytes]]:
    """Routes under ``/img/<host>/<path>`` and the bytes each original URL is served."""
    routes, served = [], {}
    urls = article_urls(ARTICLE) + [u for u in article_urls("3782700") if u != PRIVATE]
    for index, url in enumerate(urls):
        kind = SERVED.get(index, "png_alpha") if index in SERVED else "png_alpha"
        if kind is None:
            continue
        data = served_bytes(kind)
        name = f"image-{index}.bin"  # served as application/octet-stream: the format is sniffed
        (folder / name).write_bytes(data)
        parts = urlsplit(url)
        routes.append({"path": f"/img/{parts.hostname}{parts.path}", "file": name,
                       "require_headers": {"Referer": "https://wallstreetcn.com/"}})
        served[url] = data
    return routes, served


@pytest.fixture(scope="module")
def localized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Two localize runs over the recorded listing (the second with ``refresh=1``), on a copy of ``site/``."""
    tmp = tmp_path_factory.mktemp("images")
    site = tmp / "site"
    shutil.copytree(ROOT / "site", site)
    (tmp / "server").mkdir()
    routes = free_routes()
    extra, served = image_routes(tmp / "server")
    routes["routes"] += extra
    placeholder = hashlib.sha256(imagefactory.placeholder_png()).hexdigest()
    with MockServer(routes, tmp / "server") as server:
        settings = {
            "WALLSTREETCN_API_BASE": server.url, "IMAGES_MODE": "localize",
            "IMAGE_URL_REWRITES": json.dumps([[f"^{PRIVATE}$", "http://10.1.2.3/private.png"],
                                              ["^https?://([^/]+)/", f"{server.url}/img/\\1/"]]),
            "IMAGES_REFERERS": '{"127.0.0.1": "https://wallstreetcn.com/"}',
            "IMAGES_PLACEHOLDER_HASHES": placeholder, "IMAGES_THUMBNAIL_WIDTH": "3",
        }
        rewrite = {k: v for k, v in settings.items() if k != "IMAGES_MODE"}
        assert run_crawl("wallstreetcn", site, settings=rewrite).returncode == 0  # the site as it is today
        assert not [r for r in server.requests() if r.startswith("/img/")]  # rewrite mode downloads nothing
        assert (site / "content/posts/wallstreetcn" / f"{ARTICLE}.md").is_file()
        done = len(server.requests())
        first = run_crawl("wallstreetcn", site, "refresh=1", settings=settings)
        first_requests = server.requests()[done:]
        before = {p: p.read_bytes() for p in sorted((site / "content").rglob("*")) if p.is_file()}
        second = run_crawl("wallstreetcn", site, "refresh=1", settings=settings)
        second_requests = server.requests()[done + len(first_requests):]
    return {"site": site, "tmp": tmp, "first": first, "second": second, "first_requests": first_requests,
            "second_requests": second_requests, "before": before, "served": served, "settings": settings}


def bundle(site: Path, article_id: str) -> Path:
    return site / "content" / "posts" / "wallstreetcn" / article_id


def test_localize_writes_page_bundles_with_the_bytes_as_served(localized: dict) -> None:
    site, first = localized["site"], localized["first"]
    assert first.returncode == 0, first.log  # image failures leave the article written
    assert not list((site / "content/posts/wallstreetcn").glob("*.md"))  # bundles only: the <id>.md are gone
    post = frontmatter.load(bundle(site, ARTICLE) / "index.md")
    urls = article_urls(ARTICLE, json.loads(localized["settings"]["IMAGE_URL_REWRITES"]))
    originals = article_urls(ARTICLE)
    body_refs = [img["src"] for img in BeautifulSoup(_html(post.content), "lxml").find_all("img")]
    assert len(body_refs) == len(urls) - 1  # every body image is still shown, local or remote
    for index, url in enumerate(urls[:-1]):
        if index in FAILED:
            assert body_refs[index] == url  # the remote URL is kept
            continue
        data = localized["served"][originals[index]]
        name = f"{hashlib.sha256(data).hexdigest()[:20]}.{check_image(data).extension}"
        assert body_refs[index] == name
        assert (bundle(site, ARTICLE) / name).read_bytes() == data  # alpha, frames, EXIF: byte for byte
    cover = localized["served"][originals[-1]]
    stem = hashlib.sha256(cover).hexdigest()[:20]
    assert (bundle(site, ARTICLE) / f"{stem}.jpg").read_bytes() == cover
    assert post["thumbnail"] == f"posts/wallstreetcn/{ARTICLE}/{stem}-w3.jpg"  # IMAGES_THUMBNAIL_WIDTH=3
    with Image.open(bundle(site, ARTICLE) / f"{stem}-w3.jpg") as small:
        assert small.size == (3, 6)  # the 8×4 cover shown upright (EXIF orientation 6), 3 wide


def test_failures_are_named_counted_and_reported(localized: dict) -> None:
    first = localized["first"]
    report, stats = first.report(), first.stats()
    failed = {entry["reason"] for entry in report["images_failed"]}
    assert failed == {*FAILED.values(), "disallowed-url"}
    for reason in failed:
        assert stats[f"image/failed/{reason}"] == 1, reason
        assert f"left remote: {reason}" in first.log
    private = next(e for e in report["images_failed"] if e["reason"] == "disallowed-url")
    assert (private["url"], private["article"]) == ("http://10.1.2.3/private.png", "https://wallstreetcn.com/articles/3782700")
    assert "Traceback" not in first.log and "py.warnings" not in first.log
    assert not report["failed"]


def test_rerun_downloads_nothing_and_changes_no_byte(localized: dict) -> None:
    second, site = localized["second"], localized["site"]
    assert second.returncode == 0, second.log
    assert [r for r in localized["second_requests"] if r.startswith("/img/")] == []
    assert any(r.startswith("/apiv1/content/articles/") for r in localized["second_requests"])  # refresh did fetch
    after = {p: p.read_bytes() for p in sorted((site / "content").rglob("*")) if p.is_file()}
    assert after == localized["before"]
    assert second.report()["counts"]["unchanged"] == 2


def _html(markdown: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").render(markdown)


def test_hugo_resolves_every_local_image_on_pages_and_lists(localized: dict) -> None:
    site, tmp = localized["site"], localized["tmp"]
    proc = subprocess.run([str(HUGO), "build", "--source", str(site), "--printPathWarnings", "--cacheDir", str(tmp / "cache")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    public = site / "public"
    checked = 0
    for page in [public / "posts/wallstreetcn" / i / "index.html" for i in (ARTICLE, "3782700")] + [
            public / "index.html", public / "posts/index.html", public / "categories/wallstreetcn/index.html"]:
        html = BeautifulSoup(page.read_text(encoding="utf-8"), "lxml")
        base = "https://example.org/" + page.parent.relative_to(public).as_posix() + "/"
        for img in html.find_all("img"):
            url = urljoin(base.replace("//example.org/./", "//example.org/"), img["src"])
            if not url.startswith("https://example.org/"):
                assert url.startswith("http://"), url  # a failed one: still remote (the mock server)
                continue
            assert (public / unquote(urlsplit(url).path).lstrip("/")).is_file(), (page, img["src"])
            checked += 1
    lists = BeautifulSoup((public / "index.html").read_text(encoding="utf-8"), "lxml")
    assert len(lists.select("img.list__thumbnail")) == 2  # both covers, local, on the list page
    local = 0  # the images the bundles' Markdown names locally, body and thumbnail
    for article_id in (ARTICLE, "3782700"):
        post = frontmatter.load(bundle(site, article_id) / "index.md")
        refs = [img["src"] for img in BeautifulSoup(_html(post.content), "lxml").find_all("img")]
        local += sum(not ref.startswith("http") for ref in refs) + 1 + 3  # thumbnail on the page and on 3 lists
    assert checked == local >= 20


def test_rerender_reuses_the_bundles_images_without_any_request(localized: dict) -> None:
    """``scrapy rerender`` in localize mode (a format change): the bundle's files are used as they are,
    images that failed stay remote, and nothing is requested (the server of the crawl is gone)."""
    site = localized["site"]
    images = {p: p.read_bytes() for p in sorted((site / "content").rglob("*")) if p.is_file() and p.name != "index.md"}
    before = frontmatter.load(bundle(site, ARTICLE) / "index.md")
    settings = {**localized["settings"], "SUMMARY_LENGTH": "12"}
    command = [sys.executable, "-m", "scrapy", "rerender", "-s", f"OUTPUT_DIR={site}"]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    report = CrawlResult(run.returncode, run.stdout + run.stderr, site).report()
    assert run.returncode == 0, run.stderr[-3000:]
    assert "downloader/request_count" not in report["stats"] and not report["images_failed"]
    assert sorted(entry["path"] for entry in report["rerendered"]) == [
        f"content/posts/wallstreetcn/{article}/index.md" for article in (ARTICLE, "3782700")]
    after = frontmatter.load(bundle(site, ARTICLE) / "index.md")
    assert after.content == before.content and after["thumbnail"] == before["thumbnail"]
    assert after["summary"] != before["summary"] and after["summary"].endswith("...")
    assert {p: p.read_bytes() for p in images} == images


def test_switching_back_to_rewrite_keeps_one_file_per_article(localized: dict) -> None:
    site, tmp = localized["site"], localized["tmp"]
    settings = {k: v for k, v in localized["settings"].items() if k != "IMAGES_MODE"}
    with MockServer(free_routes(), tmp / "server") as server:
        settings["WALLSTREETCN_API_BASE"] = server.url
        result = run_crawl("wallstreetcn", site, "refresh=1", settings=settings)
        requests = server.requests()
    assert result.returncode == 0, result.log
    assert not [r for r in requests if r.startswith("/img/")]
    assert (site / "content/posts/wallstreetcn" / f"{ARTICLE}.md").is_file()
    assert not bundle(site, ARTICLE).exists()  # index.md and the images this project wrote, removed
    post = frontmatter.load(site / "content/posts/wallstreetcn" / f"{ARTICLE}.md")
    assert post["thumbnail"].startswith(server.url.rsplit(":", 1)[0])
