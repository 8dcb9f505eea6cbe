"""The wechat spider end to end: real ``scrapy crawl`` through Scrapy's downloader against the
replay server serving the recorded WeChat pages (and ``file://`` saved pages)."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup

from crawler.sources import wechat
from pipelines.clean import safe_url
from pipelines.images import ImageRewriter
from tests.conftest import (
    WECHAT, WECHAT_PAGES, WSCN, CrawlResult, MockServer, fixture_text, run_crawl, wechat_routes, wscn_routes,
)
from tests.fidelity import body, images, kept_in_order, render_html, visible_text

POSTS = "content/posts/wechat"
XUANYUAN = "https://mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw"
#: the same article by its long URL, with the tracking noise shares add
XUANYUAN_LONG = (
    "https://mp.weixin.qq.com/s?__biz=MzIyNjMxOTY0NA==&mid=2247504179&idx=1&sn=52c2c5acc9ff4567b10d1408a333693c"
    "&chksm=e8724f3cdf05c62a&mpshare=1&scene=23&srcid=1111abcd&sharer_shareinfo=x#rd"
)
SHARE_TO_XUANYUAN = "https://mp.weixin.qq.com/s/fixture_share_to_xuanyuan"
SHARED_ORIGINAL_PATH = "/s?__biz=MzIxNzE3MjEwNg%3D%3D&mid=2247483687&idx=1&sn=8c05352c98185e08f8100947f6f0b621&scene=45"
CJRB_FILE = WECHAT / "pages" / "wsg_2018_mpvoice_cjrb.html.gz"
NORMAL = {  # normal pages: file written → fixture
    "s_KDWh_qGpFN5Vu1TR9t30Mw.md": "wae_normal_01_xuanyuan_code",
    "s_SbB40tES2MrfoNaIPima5A.md": "wae_normal_03_yinji_blockquote_qr",
    "3234721291_2247664546_2.md": "wae_normal_c01_jinbang_audio_svg_gif",
    "2398025700_2651788393_1.md": "wsg_2018_mpvoice_cjrb",
}


THUMBNAILS = {
    "s_KDWh_qGpFN5Vu1TR9t30Mw.md": "https://mmbiz-qpic.wscn.net/mmbiz_jpg/jXQDbLkGBYUibxsppQznBGWjPRrkD2uemnJeWtibeBmu7tb7adscsbyiaAWAhlp5eAGjqTvuuic9dJ30tQic5pD3ebA/0?wx_fmt=jpeg",
    "3234721291_2247664546_2.md": "https://mmbiz-qpic.wscn.net/sz_mmbiz_jpg/SUIPcAicB0bhnNKkh1YNsK0NF8o1fOAF02fKUwOszueyBzSiajI9OuciaxrCkNib8m2XwodicySKIocOMdAZxO1fNvg/0?wx_fmt=jpeg",
    "2398025700_2651788393_1.md": "https://mmbiz-qpic.wscn.net/mmbiz_jpg/cdpEKcgoS1CIx2lBCfu0y8GGFGicSgfoAu0JWXzWGvjYkuU0bnMBl8egicVN0kHsdPmiaeVfwHhlQSOTmYDEWX0jQ/0?wx_fmt=jpeg",
    "s_JJyPUpHLM2bGvfk5FNvTUA.md": "https://mmbiz-qpic.wscn.net/mmbiz_jpg/QicyPhNHD5vZR18V1mp20xVIsYhNwqG4wKD0kaxVZukZiaXVGwdqjIRrVmiaYItvvHncImbYbfzenBBpoJjHcGAag/0?wx_fmt=jpeg",
}


def share_to_xuanyuan(tmp: Path) -> Path:
    """Hand-made: the recorded share page with its js_share_source pointed at a recorded article."""
    html = fixture_text("wechat/pages/wae_share_03_ruanyifeng_js_share_source.html.gz")
    html = re.sub(r'data-url="[^"]*" class="weui-link" id="js_share_source"', f'data-url="{XUANYUAN}" class="weui-link" id="js_share_source"', html)
    path = tmp / "share_to_xuanyuan.html.gz"
    path.write_bytes(gzip.compress(html.encode("utf-8"), compresslevel=1, mtime=0))
    return path


@pytest.fixture(scope="module")
def full_crawl(tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    """One crawl over every recorded page, shared by the tests below: each served by its link,
    the 2018 page as a saved file, and the first article also by its long URL and through a share."""
    tmp = tmp_path_factory.mktemp("wechat")
    routes = wechat_routes({XUANYUAN_LONG: WECHAT / "pages" / "wae_normal_01_xuanyuan_code.html.gz", SHARE_TO_XUANYUAN: share_to_xuanyuan(tmp)})
    urls = [url for url, name in WECHAT_PAGES.items() if not name.startswith("wsg_2018_mpvoice")]
    urls += [XUANYUAN_LONG, SHARE_TO_XUANYUAN, CJRB_FILE.as_uri()]
    with MockServer(routes, tmp) as server:
        result = run_crawl("wechat", tmp / "out", f"urls={','.join(urls)}", settings={"WECHAT_BASE": server.url})
        result.requests = server.requests()
    return result


def test_every_page_gives_a_file_or_a_named_error(full_crawl: CrawlResult) -> None:
    assert full_crawl.returncode == 3  # the error pages are failed articles: the exit status says so (README)
    assert sorted(full_crawl.files()) == sorted(f"{POSTS}/{name}" for name in [*NORMAL, "s_JJyPUpHLM2bGvfk5FNvTUA.md"])
    for token, reason in [("deleted_01", "deleted"), ("violation_01", "violation"), ("unavailable_01", "unavailable"), ("expired_2018", "expired")]:
        assert f"Failed https://mp.weixin.qq.com/s/fixture_{token}: {reason} (" in full_crawl.log
        assert full_crawl.stats()[f"article/failed/{reason}"] == 1


def test_share_is_followed_once_to_its_original(full_crawl: CrawlResult) -> None:
    # The recorded share points at an article we have no page for: asked once, then a clear error.
    assert full_crawl.requests.count(SHARED_ORIGINAL_PATH) == 1
    assert "Failed http://mp.weixin.qq.com/s?__biz=MzIxNzE3MjEwNg%3D%3D&mid=2247483687" in full_crawl.log
    assert "shares https://mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw; following it" in full_crawl.log
    assert full_crawl.stats()["wechat/page/share"] == 2


def test_same_article_by_short_long_and_share_url_is_one_file(full_crawl: CrawlResult) -> None:
    assert full_crawl.requests.count("/s/KDWh_qGpFN5Vu1TR9t30Mw") == 2  # directly and through the share
    assert any(r.startswith("/s?__biz=MzIyNjMxOTY0NA==&mid=2247504179") for r in full_crawl.requests)
    written = [p for p in full_crawl.files() if "KDWh" in p or "3226319644" in p]
    assert written == [f"{POSTS}/s_KDWh_qGpFN5Vu1TR9t30Mw.md"]


@pytest.mark.parametrize(
    ("name", "title", "date", "account", "url"),
    [
        ("s_KDWh_qGpFN5Vu1TR9t30Mw.md", "AI编程害死我了，给我的抓包软件埋了一个大雷！", "2025-11-10 12:00:10", "轩辕的编程宇宙", XUANYUAN),
        ("3234721291_2247664546_2.md", "睡前数学知识点｜Day15：疯狂星期四，V你一个知识点：定积分核心公式~", "2025-12-04 18:00:51", "金榜时代官微",
         "https://mp.weixin.qq.com/s?__biz=MzIzNDcyMTI5MQ==&mid=2247664546&idx=2&sn=cf3b894cff1fe9892fb0598a40c465fb"),
        ("2398025700_2651788393_1.md", "语音 | 早安武汉〔2018.3.19 周一〕", "2018-03-19 05:30:00", "长江日报",
         "https://mp.weixin.qq.com/s?__biz=MjM5ODAyNTcwMA==&mid=2651788393&idx=1"),
        ("s_JJyPUpHLM2bGvfk5FNvTUA.md", "新能源车均价创6年新低，价格战「寒气」侵蚀供应链", "2025-11-05 18:30:00", "36氪",
         "https://mp.weixin.qq.com/s/JJyPUpHLM2bGvfk5FNvTUA"),
    ],
)
def test_front_matter_attribution_disclaimer_and_footer(full_crawl: CrawlResult, name: str, title: str, date: str, account: str, url: str) -> None:
    document = (full_crawl.output / POSTS / name).read_text(encoding="utf-8")
    head, text = document.split("\n---\n", 1)
    assert f'title: {json.dumps(title, ensure_ascii=False)}\ndate: "{date}"\n' in head
    assert 'categories:\n  - "wechat"\n' in head and 'tags:\n  - "wechat"\n' in head
    assert f'thumbnail: "{THUMBNAILS[name]}"' in head  # the page's cover, rewritten
    lines = text.rstrip("\n").split("\n")
    assert lines[-1] == f"[wechat]({url})"
    assert lines[-3] == wechat.DISCLAIMER
    assert lines[-5] == f"来源：[{account}]({url})，原文标题：《{title}》"


@pytest.mark.parametrize("name", sorted(NORMAL))
def test_fidelity_on_every_normal_page(full_crawl: CrawlResult, name: str) -> None:
    """Rendered with CommonMark, the file shows ≥98% of the source's visible text in order, and
    every content image (lazy, cropped-original or CSS background), rewritten."""
    content = BeautifulSoup(fixture_text(f"wechat/pages/{NORMAL[name]}.html.gz"), "lxml").find(id="js_content")
    rendered = render_html(body((full_crawl.output / POSTS / name).read_text(encoding="utf-8")))
    assert kept_in_order(visible_text(content), visible_text(rendered)) >= 0.98
    rewrite = ImageRewriter()
    shown = set(images(rendered))
    for url in source_images(content):
        assert images(render_html(f"![]({safe_url(rewrite(url))})"))[0] in shown, url
    for leak in ("function(", "px;", "rgb(", "!important", "var "):
        assert leak not in visible_text(rendered)


def source_images(content) -> list[str]:
    """Every picture a reader of the page sees: ``<img>`` (its best source) and CSS backgrounds."""
    urls = []
    for img in content.find_all("img"):
        if img.find_parent(style=re.compile(r"display:\s*none")):
            continue
        url = img.get("data-croporisrc") or img.get("data-src") or img.get("src") or ""
        if url and not url.startswith("data:"):
            urls.append(url)
    for tag in content.find_all(style=re.compile(r"background-image:\s*url\(")):
        urls.append(re.search(r'url\((["\']?)(.+?)\1\)', tag["style"]).group(2))
    assert urls
    return urls


def test_image_share_file_has_its_pictures_and_text(full_crawl: CrawlResult) -> None:
    text = body((full_crawl.output / POSTS / "s_JJyPUpHLM2bGvfk5FNvTUA.md").read_text(encoding="utf-8"))
    assert len(images(render_html(text))) == 4
    assert "【作者丨徐蔡钰】" in text


def test_second_run_changes_no_byte(full_crawl: CrawlResult, tmp_path: Path) -> None:
    routes = wechat_routes({SHARE_TO_XUANYUAN: share_to_xuanyuan(tmp_path)})
    urls = [url for url, name in WECHAT_PAGES.items() if not name.startswith("wsg_2018_mpvoice")] + [CJRB_FILE.as_uri()]
    with MockServer(routes, tmp_path) as server:
        again = run_crawl("wechat", tmp_path / "out", f"urls={','.join(urls)}", settings={"WECHAT_BASE": server.url})
    assert again.files() == full_crawl.files()


# --- anti-crawl ---------------------------------------------------------------------------------


def test_anti_crawl_backs_off_the_host_and_reports_what_was_not_attempted(tmp_path: Path) -> None:
    # The verification page is hand-made (no real one is public); the redirect is WeChat's.
    target = quote(XUANYUAN, safe="")
    captcha = f"/mp/wappoc_appmsgcaptcha?poc_token=HAND&target_url={target}"
    routes = wechat_routes()
    routes["routes"].insert(0, {"path": "/s/KDWh_qGpFN5Vu1TR9t30Mw", "status": 302, "headers": {"Location": captcha}, "body": ""})
    routes["routes"].append({"path": "/mp/wappoc_appmsgcaptcha", "file": str(WECHAT / "handmade" / "anticrawl.html")})
    urls = tmp_path / "urls.txt"
    urls.write_text(
        f"# articles to fetch\n{XUANYUAN}\nhttps://mp.weixin.qq.com/s/SbB40tES2MrfoNaIPima5A\n\n"
        f"https://mp.weixin.qq.com/s/JJyPUpHLM2bGvfk5FNvTUA\n{CJRB_FILE.as_uri()}\n",
        encoding="utf-8",
    )
    with MockServer(routes, tmp_path) as server:
        result = run_crawl("wechat", tmp_path / "out", f"urls_file={urls}",
                           settings={"WECHAT_BASE": server.url, "CONCURRENT_REQUESTS_PER_DOMAIN": "1"})
        requests = server.requests()
    assert requests == ["/s/KDWh_qGpFN5Vu1TR9t30Mw", captcha]  # nothing sent after the verification page
    assert f"Failed {XUANYUAN}: anti-crawl (verification page (环境异常) for {XUANYUAN})" in result.log
    for url in ("https://mp.weixin.qq.com/s/SbB40tES2MrfoNaIPima5A", "https://mp.weixin.qq.com/s/JJyPUpHLM2bGvfk5FNvTUA"):
        assert f"Failed {url}: not-attempted" in result.log
    stats = result.stats()
    assert (stats["article/failed/anti-crawl"], stats["article/failed/not-attempted"], stats["hostguard/backed_off"]) == (1, 2, 1)
    assert "(anti-crawl verification); retry in a later run" in result.log
    assert ("2 URL(s) not attempted after their host was backed off; retry later with -a urls="
            "https://mp.weixin.qq.com/s/SbB40tES2MrfoNaIPima5A,https://mp.weixin.qq.com/s/JJyPUpHLM2bGvfk5FNvTUA") in result.log
    assert sorted(result.files()) == [f"{POSTS}/2398025700_2651788393_1.md"]  # the saved page needs no host


# --- one article, one file across sources -------------------------------------------------------


def republish_routes(tmp: Path) -> dict:
    """Hand-made: the recorded wallstreetcn detail 3782700 as a republish of the first WeChat
    fixture article (``source_name``/``source_uri`` set to it, by its long noisy URL)."""
    envelope = json.loads((WSCN / "article-3782700.json").read_text(encoding="utf-8"))
    envelope["data"]["source_name"] = "轩辕的编程宇宙"
    envelope["data"]["source_uri"] = XUANYUAN_LONG
    variant = tmp / "republish-3782700.json"
    variant.write_text(json.dumps(envelope, ensure_ascii=False), encoding="utf-8")
    return wscn_routes({3782700: variant})


def test_wechat_article_already_republished_by_wallstreetcn_is_not_written_again(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with MockServer(republish_routes(tmp_path), tmp_path) as server:
        first = run_crawl("wallstreetcn", out, settings={"WALLSTREETCN_API_BASE": server.url})
    assert sorted(first.files()) == ["content/posts/wallstreetcn/3782700.md"]
    (tmp_path / "wx").mkdir()
    with MockServer(wechat_routes(), tmp_path / "wx") as server:
        second = run_crawl("wechat", out, f"urls={XUANYUAN}", settings={"WECHAT_BASE": server.url})
    assert sorted(second.files()) == ["content/posts/wallstreetcn/3782700.md"]
    # the page names its long form, which the wallstreetcn republish recorded: stored by an earlier run
    # (stored skips are every scheduled run's bulk: the report lists them, the log only at DEBUG)
    assert {"url": XUANYUAN, "reason": "stored",
            "detail": "already written as wallstreetcn:3782700 (content/posts/wallstreetcn/3782700.md)"} in second.report()["skipped"]


def test_wallstreetcn_republish_of_a_written_wechat_article_is_not_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (tmp_path / "wx").mkdir()
    with MockServer(wechat_routes(), tmp_path / "wx") as server:
        # fetched from a URL that merely serves the page: identity and canonical URL come from the page
        first = run_crawl("wechat", out, f"urls={server.url}/s/KDWh_qGpFN5Vu1TR9t30Mw")
    assert sorted(first.files()) == [f"{POSTS}/s_KDWh_qGpFN5Vu1TR9t30Mw.md"]
    assert first.files()[f"{POSTS}/s_KDWh_qGpFN5Vu1TR9t30Mw.md"].endswith(f"[wechat]({XUANYUAN})\n".encode())
    with MockServer(republish_routes(tmp_path), tmp_path) as server:
        second = run_crawl("wallstreetcn", out, settings={"WALLSTREETCN_API_BASE": server.url})
    assert sorted(second.files()) == [f"{POSTS}/s_KDWh_qGpFN5Vu1TR9t30Mw.md"]
    assert ("Skipped https://wallstreetcn.com/articles/3782700: duplicate (already written from wechat as "
            f"wechat:s_KDWh_qGpFN5Vu1TR9t30Mw ({POSTS}/s_KDWh_qGpFN5Vu1TR9t30Mw.md))") in second.log


# --- offline demo -------------------------------------------------------------------------------


def test_demo_serves_the_recorded_pages_and_junk_rules_apply(full_crawl: CrawlResult, tmp_path: Path) -> None:
    rules = json.dumps({"印记中文": {"trailer": [".*关注我们"]}}, ensure_ascii=False)
    result = run_crawl("wechat", tmp_path / "out", "demo=1", "urls=https://mp.weixin.qq.com/s/SbB40tES2MrfoNaIPima5A",
                       settings={"WECHAT_JUNK_RULES": rules})
    name = f"{POSTS}/s_SbB40tES2MrfoNaIPima5A.md"
    assert sorted(result.files()) == [name]
    trimmed, full = result.files()[name].decode(), full_crawl.files()[name].decode()
    assert "关注我们" in full and "关注我们" not in trimmed
    # the same file but for the trailer: its text line and the QR code after it
    assert len(images(render_html(body(full)))) - len(images(render_html(body(trimmed)))) == 1
    assert kept_in_order(visible_text(render_html(body(full))).replace("🙋‍♀️关注我们", ""), visible_text(render_html(body(trimmed)))) == 1.0


# --- URL lists, dropped requests, saved pages, stored articles ------------------------------------

SBB = "https://mp.weixin.qq.com/s/SbB40tES2MrfoNaIPima5A"


def failed(result: CrawlResult) -> list[tuple[str, str]]:
    return sorted((f["url"], f["reason"]) for f in result.report()["failed"])


def test_list_with_bom_and_bad_lines_in_the_middle(tmp_path: Path) -> None:
    """Hand-made list: a UTF-8 BOM before the first URL, then lines that are no URL among good ones."""
    urls = tmp_path / "urls.txt"
    urls.write_bytes(b"\xef\xbb\xbf" + f"{XUANYUAN}\n".encode() + b"https://mp.weixin.qq.com/s/\xff\xfebroken\n"
                     + b"ftp://mp.weixin.qq.com/s/x\n# comment\n" + f"{SBB}\n".encode())
    with MockServer(wechat_routes(), tmp_path) as server:
        result = run_crawl("wechat", tmp_path / "out", f"urls_file={urls}", settings={"WECHAT_BASE": server.url})
    assert sorted(result.files()) == [f"{POSTS}/s_KDWh_qGpFN5Vu1TR9t30Mw.md", f"{POSTS}/s_SbB40tES2MrfoNaIPima5A.md"]
    assert failed(result) == [(f"{urls}:2", "bad-line"), (f"{urls}:3", "bad-line")]
    assert result.returncode == 3
    assert "Traceback" not in result.log


def test_over_long_urls_fail_named_and_the_run_ends(tmp_path: Path) -> None:
    """Two URLs over URLLENGTH_LIMIT used to be dropped silently while the pacing waited for their answers."""
    long_urls = [f"https://mp.weixin.qq.com/s?__biz=MzIyNjMxOTY0NA==&mid={n}&idx=1&pad={'x' * 2100}" for n in (1, 2)]
    with MockServer(wechat_routes(), tmp_path) as server:
        result = run_crawl("wechat", tmp_path / "out", f"urls={','.join([*long_urls, XUANYUAN])}",
                           settings={"WECHAT_BASE": server.url}, timeout=180)  # the timeout guards against the hang
        requests = server.requests()
    assert failed(result) == sorted((url, "url-too-long") for url in long_urls)
    assert requests == ["/s/KDWh_qGpFN5Vu1TR9t30Mw"]
    assert sorted(result.files()) == [f"{POSTS}/s_KDWh_qGpFN5Vu1TR9t30Mw.md"]


def test_saved_pages_are_read_without_delay_or_retries(tmp_path: Path) -> None:
    """50 saved pages with a 5 s politeness delay (and AutoThrottle on): read in their own slot, so the run
    ends well inside the guard (it would take over 4 minutes at 5 s a page); a missing one fails once."""
    saved = tmp_path / "saved"
    saved.mkdir()
    page = (WECHAT / "pages" / "wae_deleted_01_zh.html.gz").read_bytes()
    for n in range(50):
        (saved / f"page{n:02d}.html.gz").write_bytes(page)
    missing = saved / "missing.html"
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(f"{p}\n" for p in sorted(saved.iterdir())) + f"{missing}\n", encoding="utf-8")
    result = run_crawl("wechat", tmp_path / "out", f"urls_file={urls}", timeout=150,
                       settings={"DOWNLOAD_DELAY": "5", "AUTOTHROTTLE_ENABLED": "1"})
    stats = result.stats()
    assert stats["downloader/request_count"] == 51
    assert stats["article/failed/deleted"] == 50
    assert (missing.as_uri(), "missing-file") in failed(result)
    assert stats["article/failed/missing-file"] == 1
    assert not [key for key in stats if key.startswith("retry/")]


def test_stored_urls_are_skipped_unless_refresh(tmp_path: Path) -> None:
    out = tmp_path / "out"
    runs = {}
    for name, args in (("first", ()), ("again", ()), ("refresh", ("refresh=1",))):
        (tmp_path / name).mkdir()
        with MockServer(wechat_routes(), tmp_path / name) as server:
            runs[name] = run_crawl("wechat", out, f"urls={XUANYUAN},{CJRB_FILE.as_uri()}", *args,
                                   settings={"WECHAT_BASE": server.url})
            runs[name].requests = server.requests()
    assert runs["first"].requests == ["/s/KDWh_qGpFN5Vu1TR9t30Mw"] and len(runs["first"].report()["new"]) == 2
    again = runs["again"].report()
    assert runs["again"].requests == []  # known by its URL: not fetched at all
    assert sorted((s["url"], s["reason"]) for s in again["skipped"]) == sorted([(XUANYUAN, "stored"), (CJRB_FILE.as_uri(), "stored")])
    assert runs["again"].returncode == 0
    assert runs["refresh"].requests == ["/s/KDWh_qGpFN5Vu1TR9t30Mw"]
    assert len(runs["refresh"].report()["unchanged"]) == 2 and not runs["refresh"].report()["skipped"]
