"""``scrapy crawl web``: pages of any site through Scrapy's real downloader (the replay server),
with the fidelity figures of trafilatura's evaluation snippets asserted on the written files."""

from __future__ import annotations

import json
import re

import pytest

from crawler.sources import web
from tests.conftest import FIXTURES, run_crawl, serve

GENERIC = FIXTURES / "generic"
EVALDATA = json.loads((GENERIC / "evaldata-subset.json").read_text(encoding="utf-8"))
#: Where the replay server serves each page (the real pages keep their own paths).
PATHS = {
    "xinhuanet": "/local/2020-02/19/c_1125597921.htm",
    "banyuetan": "/jmcs/detail/20200102/1000200033136171577956287380194268_1.html",
    "archive": "/web/20120611024252/news/2012-06/04/content_25340717.htm",
    "gbk": "/industry/2026-11/28/steel.htm",
    "home": "/index.html",
    "login": "/vip/2026-11/30/fed.htm",
}
FILES = {
    "xinhuanet": "xinhuanet.com.c_1125597921.html",
    "banyuetan": "banyuetan.org.1000200033136171577956287380194268_1.html",
    "archive": "archive.org.he.xinhuanet.com.25340717.html",  # served as UTF-8: a GB2312 page in a UTF-8 wrapper
    "gbk": "gbk-undeclared.html",
    "home": "home.html",
    "login": "login.html",
}
#: The content images of each real page (by file name), and nothing else.
CONTENT_IMAGES = {
    "xinhuanet": ["1125597921_15821148894141n.jpg", "1125597921_15821149269271n.jpg", "1125597921_15821149778301n.jpg"],
    "banyuetan": ["Cn4APl4Ns6-AItA1AAIvaTha0jo842.jpg"],
    "archive": [],
}
PRIVATE = "http://10.0.0.1/news/1.html"
#: banyuetan names its own URL (og:url): its id and label are the real site's
BANYUETAN = "http://www.banyuetan.org/jmcs/detail/20200102/1000200033136171577956287380194268_1.html"


def routes() -> dict:
    table = [{"path": PATHS[key], "file": str(GENERIC / name)} for key, name in FILES.items()]
    table[3]["headers"] = {"Content-Type": "text/html"}  # the GBK page: declared nowhere
    return {"routes": table}


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("web")
    out = tmp / "out"
    with serve(routes(), tmp, "server") as server:
        urls = [f"{server.url}{PATHS[key]}" for key in FILES] + [PRIVATE]
        settings = {"WEB_SOURCE_NAMES": '{"127.0.0.1": "local"}', "RETRY_TIMES": "0"}
        first = run_crawl("web", out, f"urls={','.join(urls)}", settings=settings)
        second = run_crawl("web", out, f"urls={','.join(urls[:2])}", settings=settings)
        second.requests = server.requests()
    return {"first": first, "second": second, "urls": dict(zip([*FILES, "private"], urls, strict=True))}


def written(crawl: dict, key: str) -> str:
    """The file written for page ``key``: named by the id of its canonical URL (the page's
    own, or the URL it was read at when it names none)."""
    report = crawl["first"].report()
    url = BANYUETAN if key == "banyuetan" else crawl["urls"][key]
    entry = next(e for e in report["new"] if e["url"] == url)
    return (crawl["first"].output / entry["path"]).read_text(encoding="utf-8")


def body_of(document: str) -> str:
    return document.split("\n---\n", 1)[1]


@pytest.mark.parametrize("key", ["xinhuanet", "banyuetan", "archive"])
def test_real_pages_meet_the_fidelity_figures(crawl: dict, key: str) -> None:
    entry = next(e for e in EVALDATA.values() if e["file"] == FILES[key])
    document = written(crawl, key)
    body = body_of(document)
    flat = re.sub(r"\s+", "", body)
    assert [s for s in entry["with"] if re.sub(r"\s+", "", s) not in flat] == []
    assert [s for s in entry["without"] if re.sub(r"\s+", "", s) in flat] == []
    images = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", body)
    assert [url.rsplit("/", 1)[-1] for url in images] == CONTENT_IMAGES[key]  # every content image, nothing else
    assert all(url.startswith("http") for url in images)
    assert f'title: "{entry["title"].strip()}"' in document


def test_paths_dates_and_labels(crawl: dict) -> None:
    report = crawl["first"].report()
    paths = {e["url"]: e["path"] for e in report["new"]}
    urls = crawl["urls"]
    assert paths[BANYUETAN] == f"content/posts/banyuetan.org/{web.url_id(BANYUETAN)}.md"
    # the others name none: the URL they were read at, whose domain WEB_SOURCE_NAMES maps to "local"
    assert paths[urls["xinhuanet"]] == f"content/posts/local/{web.url_id(urls['xinhuanet'])}.md"
    assert 'date: "2020-02-19 20:29:58"' in written(crawl, "xinhuanet")
    assert 'date: "2012-06-04 09:20:26"' in written(crawl, "archive")
    gbk = written(crawl, "gbk")
    assert 'title: "镕铸新材料：钢铁行业低碳转型观察"' in gbk and "镕炼工艺的创新" in gbk  # detected GBK


def test_pages_without_an_article_and_private_addresses_fail_by_name(crawl: dict) -> None:
    first, urls = crawl["first"], crawl["urls"]
    report = first.report()
    assert sorted((f["url"], f["reason"], f["kind"]) for f in report["failed"]) == sorted([
        (urls["home"], "no-article", "permanent"),
        (urls["login"], "no-article", "permanent"),
        (PRIVATE, "disallowed-url", "permanent"),  # any host, but never a private address
    ])
    assert len(report["new"]) == 4
    assert first.returncode == 3, first.log
    assert not any("index" in path for path in first.files())


def test_a_second_run_skips_what_is_stored_without_fetching(crawl: dict) -> None:
    second, urls = crawl["second"], crawl["urls"]
    assert sorted((s["url"], s["reason"]) for s in second.report()["skipped"]) == sorted([
        (urls["xinhuanet"], "stored"), (urls["banyuetan"], "stored"),
    ])
    assert [r for r in second.requests if r.startswith(PATHS["xinhuanet"])] == [PATHS["xinhuanet"]]  # the first run's only
    assert second.returncode == 0, second.log
