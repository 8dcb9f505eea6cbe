"""A corpus of hostile upstream answers, crawled end to end and built by the real Hugo.

Every case here is HAND-MADE: a real recorded response (wallstreetcn 3740710, WeChat page
wae_normal_01 / wae_share_03) with one field turned hostile, as an attacker controlling the
source (or a broken upstream) could send it. Each case must end as a named failure in the run
report or as a safe file; nothing may appear outside the output root; every file written must
parse with python-frontmatter, hold no raw HTML, no link or image to a non-http(s) scheme and
no Hugo shortcode, and the whole output must build in Hugo (``site/``).

Unit-level corpora live with their components (test_paths, test_outbound, test_limits,
test_hostile_markdown, test_inputs, test_publish); this module checks they hold together
through a real crawl.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import frontmatter
import pytest
from markdown_it import MarkdownIt

from tests.conftest import ROOT, WECHAT, WSCN, MockServer, run_crawl, wechat_route
from tests.test_hugo_build import HUGO

LISTING = "/apiv1/content/articles"
WSCN_HEADERS = {"Origin": "https://wallstreetcn.com", "Referer": "https://wallstreetcn.com/"}
#: A named failure: our kebab-case reasons, never an exception class name (a crash).
NAMED = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SHORTCODE = re.compile(r"\{\{[<%]")
SAFE_SCHEME = re.compile(r"^(?:https?://|/|#|\.\.?/|[^:/?#]*(?:[/?#]|$))", re.I)


def detail(**changes: Any) -> dict[str, Any]:
    """The real detail answer of 3740710 with ``changes`` to its ``data``."""
    answer = json.loads((WSCN / "article-3740710.json").read_text(encoding="utf-8"))
    answer["data"].update(changes)
    return answer


def with_content(html: str, **changes: Any) -> dict[str, Any]:
    return detail(content=f"<p>正常的第一段。</p>{html}<p>正常的最后一段。</p>", **changes)


DEEP = "<div>" * 10_000 + "深" + "</div>" * 10_000
#: case name → detail answer (a dict is sent as JSON, a str as is). The listing names each case
#: by a fresh valid id; the answer may then lie about it.
WSCN_CASES: dict[str, dict[str, Any] | str] = {
    "id-traversal": detail(id="../../x"),
    "id-dot": detail(id="."),
    "id-dotdot": detail(id=".."),
    "id-hidden": detail(id=".hidden"),
    "id-slash": detail(id="a/b"),
    "id-negative": detail(id=-1),
    "id-float": detail(id=1.5),
    "id-other-article": detail(id=3740710),
    "title-surrogate": detail(title="标题\ud800结尾"),
    "title-shortcode": detail(title="{{< youtube abc >}} 标题 {{% param x %}}"),
    "title-front-matter": detail(title='a"\n---\nfoo: bar\n---\n'),
    "title-controls": detail(title="控制\x00\x01\x1b\x7f\x85\u2028\ufffe字符"),
    "content-shortcodes": with_content('<p>看 {{< youtube abc >}} 和 {{% param "x" %}} 和 {{< nosuch >}}</p>'),
    "content-shortcode-in-code": with_content("<pre><code>{{< youtube abc >}}\n{{% x %}}</code></pre><p><code>{{<x>}}</code></p>"),
    "content-data-md": with_content('<p data-md="<script>alert(1)</script>">x</p><span data-md="<img src=x onerror=alert(1)>">y</span>'),
    "content-code-lang": with_content('<pre data-lang="py`<script>alert(1)</script>"><code>x = 1</code></pre>'
                                      '<pre><code class="language-a\nb`c">y = 2</code></pre>'),
    "content-fence-break": with_content("<pre><code>```\n</code></pre><p>x</p><pre><code>~~~~\n```` </code></pre><script>alert(1)</script>"),
    "content-raw-html-text": with_content("<p>&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt;</p>"),
    "content-link-schemes": with_content(
        '<p><a href="javascript:alert(1)">a</a> <a href="vbscript:msgbox(1)">b</a> <a href="data:text/html,<script>x</script>">c</a>'
        ' <a href="file:///etc/passwd">d</a> <a href="JaVa&#x09;ScRiPt:alert(1)">e</a> <a href=" javascript:alert(1)">f</a>'
        ' <a href="&#106;avascript:alert(1)">g</a> <a href="https://example.org/ok">ok</a></p>'),
    "content-image-schemes": with_content(
        '<p><img src="javascript:alert(1)"><img src="data:text/html,<script>x</script>"><img src="file:///etc/passwd">'
        '<img src="vbscript:x"><img src="https://example.org/ok.png"></p>'),
    "content-link-title-alt": with_content(
        '<p><a href="https://example.org/a" title="x&quot;) [y](javascript:alert(1)">t</a>'
        '<img src="https://example.org/i.png" alt="](javascript:alert(1)) <script>"></p>'),
    "content-iframe": with_content('<iframe src="javascript:alert(1)"></iframe><video src="data:text/html,x"></video>'),
    "content-deep": with_content(DEEP),
    "content-nul": with_content("<p>零\x00字节</p>"),
    "source-uri-newline": detail(source_name="来源号", source_uri="https://mp.weixin.qq.com/s/abcdefgh12\n<script>alert(1)</script>"),
    "source-uri-javascript": detail(source_name="来源号", source_uri="javascript:alert(1)"),
    "source-name-markdown": detail(source_name="[x](javascript:alert(1)) {{< y >}} <b>", source_uri="https://example.org/src"),
    "cover-javascript": detail(image={"uri": "javascript:alert(1)"}),
    "cover-newline": detail(image={"uri": 'https://example.org/a.png"\nfoo: bar'}),
    "time-text": detail(display_time="x"),
    "time-huge": detail(display_time=10**20),
    "time-zero": detail(display_time=0),
    "content-empty": detail(content=""),
    "content-only-script": detail(content="<script>alert(1)</script>"),
    "data-list": {"code": 20000, "message": "OK", "data": []},
    "envelope-error": {"code": 60301, "message": "内容不存在或已被删除", "data": None},
    "not-json": "<html>502 Bad Gateway</html>",
    "title-missing": detail(title=None),
}
#: Listing items that are themselves hostile (hand-made); each must fail alone.
BAD_ITEMS: list[Any] = [
    {"id": "../../x", "display_time": 1790650000},
    {"id": {"a": 1}, "display_time": 1790650000},
    {"id": -5, "display_time": 1790650000},
    {"id": "9 9", "display_time": 1790650000},
    {"id": 9100001, "display_time": "yesterday"},
    "not an object",
]


def wscn_case_routes(tmp: Path) -> tuple[dict[str, Any], dict[int, str]]:
    """A one-page listing naming every case (and the bad items), and each case's answer."""
    ids = {9000001 + n: name for n, name in enumerate(WSCN_CASES)}
    items: list[Any] = [{"id": i, "title": name, "display_time": 1790650000 - n, "layout": "wscn-layout"}
                        for n, (i, name) in enumerate(ids.items())]
    items[3:3] = BAD_ITEMS  # in the middle of the page: the items after them must still be fetched
    (tmp / "listing.json").write_text(json.dumps({"code": 20000, "message": "OK", "data": {"items": items, "next_cursor": ""}}))
    routes: list[dict[str, Any]] = [{"path": LISTING, "query": {"limit": "30"}, "file": str(tmp / "listing.json")}]
    for article_id, name in ids.items():
        answer = WSCN_CASES[name]
        if isinstance(answer, dict) and isinstance(answer["data"], dict) and not name.startswith("id-"):
            # Each case is an article of its own: it names the id it was asked for (else it is an
            # id-mismatch; only the id-* cases lie) and republishes its own WeChat article (one shared
            # origin would make every case but one a duplicate of it).
            data = {**answer["data"], "id": article_id}
            data["source_uri"] = str(data.get("source_uri") or "").replace("mid=2652564074", f"mid={article_id}")
            answer = {**answer, "data": data}
        file = tmp / f"{name}.json"
        file.write_text(answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=True))
        routes.append({"path": f"{LISTING}/{article_id}", "query": {"extract": "0"}, "file": str(file)})
    for route in routes:
        route["require_headers"] = WSCN_HEADERS
    return {"routes": routes}, ids


# --- WeChat ----------------------------------------------------------------------------------------

NORMAL_PAGE = WECHAT / "pages" / "wae_normal_01_xuanyuan_code.html.gz"
SHARE_PAGE = WECHAT / "pages" / "wae_share_03_ruanyifeng_js_share_source.html.gz"
TOKEN, MID = "KDWh_qGpFN5Vu1TR9t30Mw", "2247504179"
SHARE_SOURCE = re.compile(r'data-url="[^"]*"(?= class="weui-link" id="js_share_source")')


def case_url(name: str) -> str:
    return f"https://mp.weixin.qq.com/s/hostile_{name.replace('-', '_')}_x"


def wechat_page(n: int, name: str, title: str | None = None, content: str | None = None) -> bytes:
    """The real normal page as a different article ``n`` served at the case's URL (its token and mid
    changed), with a hostile title (JS single-quoted string source) or hostile HTML at the start of
    ``#js_content``."""
    html = gzip.decompress(NORMAL_PAGE.read_bytes()).decode("utf-8")
    token = case_url(name).rsplit("/", 1)[1]
    html = html.replace(TOKEN, token).replace(MID, str(3000000000 + n))
    if title is not None:
        html = re.sub(r"var msg_title = '[^']*'", lambda _: f"var msg_title = '{title}'", html, count=1)
    if content is not None:
        at = html.index(">", html.index('id="js_content"')) + 1
        html = html[:at] + content + html[at:]
    return html.encode("utf-8")


def share_page(target: str) -> bytes:
    html = gzip.decompress(SHARE_PAGE.read_bytes()).decode("utf-8")
    return SHARE_SOURCE.sub(lambda _: f'data-url="{target}"', html, count=1).encode("utf-8")


def gzip_bomb() -> bytes:
    """100 MB of zeros behind the gzip magic bytes (about 100 KB on the wire)."""
    return gzip.compress(b"\0" * 100_000_000, compresslevel=9)


WECHAT_CASES: dict[str, bytes] = {
    "share-file": share_page("file:///etc/passwd"),
    "share-metadata": share_page("http://169.254.169.254/latest/meta-data/"),
    "share-loopback": share_page("http://127.0.0.1:9/s/abcdefgh12"),
    "share-decimal-ip": share_page("http://2130706433/s/abcdefgh12"),
    "share-data": share_page("data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;"),
    "share-ftp": share_page("ftp://mp.weixin.qq.com/s/abcdefgh12"),
    "share-lookalike": share_page("https://mp.weixin.qq.com.evil.example/s/abcdefgh12"),
    "share-javascript": share_page("javascript:alert(1)"),
    "title-shortcode": wechat_page(1, "title-shortcode", title="{{&lt; youtube abc &gt;}} 标题"),
    "title-surrogate": wechat_page(2, "title-surrogate", title="标题\\ud800结尾"),
    "title-html": wechat_page(3, "title-html", title="&lt;script&gt;alert(1)&lt;/script&gt;"),
    "content-formula": wechat_page(4, "content-formula", content='<span data-formula="x$ <script>alert(1)</script> \n\n$y" data-formula-type="inline-equation">f</span>'
                                             '<section data-formula="\\end{x}$$<img src=x onerror=alert(1)>" data-formula-type="block-equation">g</section>'),
    "content-shortcode": wechat_page(5, "content-shortcode", content="<p>{{< youtube abc >}}{{% param x %}}</p>"),
    "content-data-md": wechat_page(6, "content-data-md", content='<p data-md="<script>alert(1)</script>">x</p>'),
    "content-links": wechat_page(7, "content-links", content='<p><a href="javascript:alert(1)">a</a><img data-src="javascript:alert(2)"><img src="file:///etc/passwd"></p>'),
    "content-deep": wechat_page(8, "content-deep", content="<section>" * 10_000 + "深" + "</section>" * 10_000),
    "gzip-bomb": gzip_bomb(),
}


def wechat_case_routes(tmp: Path) -> tuple[dict[str, Any], dict[str, str]]:
    urls = {case_url(name): name for name in WECHAT_CASES}
    routes = []
    for url, name in urls.items():
        file = tmp / f"wechat-{name}.bin"  # served as application/octet-stream, without Content-Encoding
        file.write_bytes(WECHAT_CASES[name])
        routes.append(wechat_route(url, file))
    return {"routes": routes}, {url: name for url, name in urls.items()}


# --- checks ------------------------------------------------------------------------------------------


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def check_document(path: Path) -> None:
    """What every written file must be: front matter Hugo reads, a body that cannot run on the site."""
    text = path.read_text(encoding="utf-8")  # valid UTF-8: no lone surrogates
    post = frontmatter.loads(text)
    assert isinstance(post.metadata.get("title"), str) and post.metadata["title"].strip(), path
    assert not SHORTCODE.search(post.content), (path, SHORTCODE.search(post.content))
    md = MarkdownIt("commonmark")
    for token in md.parse(post.content):
        assert token.type not in ("html_block", "html_inline"), (path, token.content)
        for child in token.children or []:
            assert child.type != "html_inline", (path, child.content)
            url = child.attrGet("href") if child.type == "link_open" else child.attrGet("src") if child.type == "image" else None
            if url is not None:
                assert SAFE_SCHEME.match(url), (path, url)
    thumbnail = str(post.metadata.get("thumbnail", ""))
    assert thumbnail == "" or thumbnail.startswith(("https://", "http://", "/")), (path, thumbnail)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Both crawls of the corpus into a copy of ``site/``, and the Hugo build of the result."""
    tmp = tmp_path_factory.mktemp("hostile")
    (tmp / "wscn").mkdir()
    (tmp / "wechat").mkdir()
    root = tmp / "site"
    shutil.copytree(ROOT / "site", root)
    before = tree(tmp)
    routes, ids = wscn_case_routes(tmp / "wscn")
    with MockServer(routes, tmp / "wscn") as server:
        wscn = run_crawl("wallstreetcn", root, settings={"WALLSTREETCN_API_BASE": server.url, "RETRY_ENABLED": "0"})
    routes, urls = wechat_case_routes(tmp / "wechat")
    with MockServer(routes, tmp / "wechat") as server:
        wechat = run_crawl("wechat", root, f"urls={','.join(urls)}", settings={
            "WECHAT_BASE": server.url, "RETRY_ENABLED": "0", "DOWNLOAD_MAXSIZE": str(8 * 1024 * 1024),
            "ALLOWED_PRIVATE_NETWORKS": '["127.0.0.0/8"]',
        })
    after = tree(tmp)
    hugo = subprocess.run([str(HUGO), "--source", str(root), "--printPathWarnings", "--logLevel", "warn"],
                          capture_output=True, text=True, timeout=600)
    return {"root": root, "tmp": tmp, "new": after - before, "wscn": wscn, "ids": ids, "wechat": wechat,
            "urls": urls, "hugo": hugo}


def outcomes(report: dict[str, Any]) -> dict[str, list[str]]:
    """URL → what happened to it: reasons of failures and skips, "written" for files."""
    found: dict[str, list[str]] = {}
    for entry in report["failed"] + report["skipped"]:
        found.setdefault(entry["url"], []).append(entry["reason"])
    for status in ("new", "updated", "unchanged"):
        for entry in report[status]:
            found.setdefault(entry["url"], []).append("written")
    return found


def test_every_wallstreetcn_case_is_a_named_failure_or_a_safe_file(site: dict[str, Any]) -> None:
    crawl = site["wscn"]
    assert "Traceback" not in crawl.log, crawl.log[-3000:]
    seen = outcomes(crawl.report())
    for article_id, name in site["ids"].items():
        found = seen.get(f"https://wallstreetcn.com/articles/{article_id}")
        assert found, f"{name}: no outcome in the report"
        assert all(NAMED.match(reason) or reason == "written" for reason in found), (name, found)
    assert crawl.returncode == 3  # failed articles (README: exit status)


def test_bad_listing_items_fail_alone(site: dict[str, Any]) -> None:
    report = site["wscn"].report()
    # every case after the bad items in the page was still fetched and given an outcome …
    assert len(outcomes(report)) >= len(WSCN_CASES)
    # … and each bad item is a named failure of its own (not a crash of the page)
    named = [e for e in report["failed"] if not e["url"].startswith("https://wallstreetcn.com/articles/900")]
    assert len(named) >= len(BAD_ITEMS), report["failed"]
    assert all(NAMED.match(e["reason"]) for e in named), named
    assert not report["listing_failed"], report["listing_failed"]


def test_every_wechat_case_is_a_named_failure_or_a_safe_file(site: dict[str, Any]) -> None:
    crawl = site["wechat"]
    assert "Traceback" not in crawl.log, crawl.log[-3000:]
    seen = outcomes(crawl.report())
    for url, name in site["urls"].items():
        found = seen.get(url)
        assert found, f"{name}: no outcome in the report"
        assert all(NAMED.match(reason) or reason == "written" for reason in found), (name, found)
        if name.startswith("share-"):  # a share to anything but WeChat is refused, never fetched
            assert found != ["written"], name
    assert "etc/passwd" not in "".join(p.read_text(encoding="utf-8") for p in (site["root"] / "content").rglob("*.md"))


def test_shares_never_reached_other_hosts(site: dict[str, Any]) -> None:
    log = site["wechat"].log
    for target in ("169.254.169.254", "127.0.0.1:9/", "2130706433", "evil.example", "file:///etc/passwd", "ftp://"):
        assert not re.search(rf"Crawled \(\d+\) <GET [^>]*{re.escape(target)}", log), target


def test_nothing_outside_the_output_root(site: dict[str, Any]) -> None:
    outside = sorted(p for p in site["new"] if not p.startswith(("site/", "wscn/", "wechat/")))
    assert outside == []
    # … and nothing the crawls wrote under the site is a dot-file Hugo would not show, or outside content/
    written = [p for p in site["new"] if p.startswith("site/") and p.endswith(".md")]
    assert written and all(p.startswith("site/content/posts/") for p in written), written
    assert not [p for p in written if any(part.startswith(".") for part in Path(p).parts)]


def test_every_file_written_is_safe(site: dict[str, Any]) -> None:
    files = sorted((site["root"] / "content" / "posts").rglob("*.md"))
    assert len(files) >= 10  # the cases that can give a safe file did
    for path in files:
        check_document(path)


def test_hugo_builds_the_corpus_and_shows_shortcodes_as_text(site: dict[str, Any]) -> None:
    hugo = site["hugo"]
    assert hugo.returncode == 0, hugo.stdout + hugo.stderr
    assert "ERROR" not in hugo.stdout + hugo.stderr
    public = site["root"] / "public"
    pages = "".join(p.read_text(encoding="utf-8") for p in public.rglob("index.html"))
    assert "{{&lt; youtube abc &gt;}}" in pages or "{{< youtube abc >}}" in pages
    assert "<iframe" not in pages and "<script>alert" not in pages and "javascript:" not in pages
