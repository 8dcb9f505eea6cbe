"""Identities and output paths at the source boundary.

The hostile ids, URLs and templates below are HAND-MADE (what an attacker controlling an
upstream answer, a page or a URL list could send); the property tests generate the rest. Every
value ends either refused with a named error or as a path strictly inside the output root,
never a dot-file. The crawl at the end sends such ids through Scrapy's real downloader.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.settings import Settings

from crawler.sources import SourceError
from crawler.sources import wallstreetcn as wscn
from crawler.sources import wechat
from crawler.sources.wechat_url import article_identity, is_identity
from pipelines.adapters import output_path
from pipelines.article import Article
from pipelines.paths import ArticlePaths, UnsafePath, article_path, check_part
from tests.conftest import WSCN, MockServer, fixture_text, run_crawl

TEMPLATE = "content/posts/{source}/{id}.md"
POSTS = "content/posts/wallstreetcn"

#: Hand-made hostile path parts: traversal, hidden files, separators, controls, invisible
#: characters, white space, over-long names.
HOSTILE_PARTS = [
    "../../x", "../../../README", "..", ".", ".hidden", "", "a/b", "/etc/passwd", "a\\b", "..\\..\\x",
    "x\x00y", "x\ny", "\x1b[31m", "a\u202eb", "a\u200bb", "a\u2028b", " 1", "1 ", "x" * 101, "文" * 70,
]
#: Hand-made hostile wallstreetcn ids, as JSON would give them.
HOSTILE_WSCN_IDS: list[Any] = [
    "../../x", ".", "..", ".hidden", "a/b", -1, -5, 0, "0", "-1", "+1", "1.0", 1.5, 3.0, "9 9", " 9", "9\n",
    "٣٧٤٠٧١٠", "３７", "1e5", "0x10", "007", True, False, None, {"a": 1}, [1], "1" * 20, 10**19,
]
#: Hand-made WeChat identities and URLs that must name no identity.
HOSTILE_WECHAT_IDS = [
    "s_short", "s_" + "a" * 65, "s_../../xx", "s_abc/defgh", ".s_abcdefgh", "1_2", "1_2_3_4", "a_1_1",
    "١٢٣_1_1", "1_2_3\n", "s_abcdefgh\x00", "",
]
HOSTILE_WECHAT_URLS = [
    "https://mp.weixin.qq.com/s/" + "a" * 65,
    "https://mp.weixin.qq.com/s?__biz=Li4vLi4v&mid=1&idx=1",  # base64 of "../../"
    "https://mp.weixin.qq.com/s?__biz=not-base64!&mid=1&idx=1",
    "https://mp.weixin.qq.com/s?__biz=MzIzNDcyMTI5MQ==&mid=%D9%A3&idx=1",  # Arabic-Indic digit
    "https://mp.weixin.qq.com/s?__biz=MzIzNDcyMTI5MQ==&mid=%C2%B2&idx=1",  # superscript two
]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("paths") / "out"


def assert_safe(path: Path, root: Path) -> None:
    """Strictly inside the root, in the source's folder, no hidden part."""
    relative = path.relative_to(root.resolve())
    assert relative.parent.as_posix() == POSTS
    assert not any(part.startswith(".") for part in relative.parts)
    assert path.suffix == ".md" and path.stem


# --- the path boundary --------------------------------------------------------------------------


@pytest.mark.parametrize("part", HOSTILE_PARTS)
def test_hostile_parts_are_refused(part: str, root: Path) -> None:
    with pytest.raises(UnsafePath) as info:
        article_path(root, TEMPLATE, source="wallstreetcn", id=part)
    assert info.value.reason == "unsafe-path"
    with pytest.raises(UnsafePath):
        article_path(root, TEMPLATE, source=part, id="1")


@pytest.mark.parametrize("name", ["index", "_index", "INDEX", "_Index"])
def test_hugo_index_pages_are_refused(name: str, root: Path) -> None:  # hand-made: would hide the other posts
    with pytest.raises(UnsafePath, match="Hugo"):
        article_path(root, TEMPLATE, source="wallstreetcn", id=name)


def test_good_parts_make_the_expected_path(root: Path) -> None:
    assert article_path(root, TEMPLATE, source="wallstreetcn", id="3740710") == root.resolve() / POSTS / "3740710.md"
    assert article_path(root, TEMPLATE, source="wechat", id="s_KDWh_qGpFN5Vu1TR9t30Mw").name == "s_KDWh_qGpFN5Vu1TR9t30Mw.md"


@pytest.mark.parametrize(
    "template",
    ["/tmp/{source}/{id}.md", "../{source}/{id}.md", "content/../../{id}.md", ".hidden/{id}.md", "{id.__class__}.md",
     "{id!r}.md", "{id:>9}.md", "{source}/{other}.md", "content/posts/{source}.md", "{id", ""],
)
def test_hostile_templates_are_refused(template: str, root: Path) -> None:  # hand-made
    with pytest.raises(UnsafePath):
        article_path(root, template, source="wallstreetcn", id="1")


def test_a_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    root = tmp_path / "out"
    (root / "content/posts").mkdir(parents=True)
    (root / POSTS).symlink_to(outside)
    with pytest.raises(UnsafePath, match="not inside"):
        article_path(root, TEMPLATE, source="wallstreetcn", id="1")


def test_a_run_s_paths_look_at_each_file_once_its_folder_is_known(tmp_path: Path) -> None:
    """A run resolves its folder once (``ArticlePaths``): an article's file, or its bundle's folder,
    that is a symlink out of the root (hand-made) is refused all the same."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    root = tmp_path / "out"
    (root / POSTS).mkdir(parents=True)
    paths = ArticlePaths(root, TEMPLATE)
    assert paths.article(source="wallstreetcn", id="1") == root.resolve() / POSTS / "1.md"
    (root / POSTS / "2.md").symlink_to(outside / "2.md")
    with pytest.raises(UnsafePath, match="not inside"):
        paths.article(source="wallstreetcn", id="2")
    (root / POSTS / "3").symlink_to(outside, target_is_directory=True)
    assert paths.bundle(source="wallstreetcn", id="1") == root.resolve() / POSTS / "1" / "index.md"
    with pytest.raises(UnsafePath, match="bundle folder"):
        paths.bundle(source="wallstreetcn", id="3")
    (root / POSTS / "4.md").symlink_to(root / POSTS / "1.md")  # a link that stays inside is followed, as before
    assert paths.article(source="wallstreetcn", id="4") == root.resolve() / POSTS / "1.md"


def test_with_site_repo_only_the_content_folder_is_writable(tmp_path: Path) -> None:
    """With SITE_REPO set, a template that leaves content/ (README.md, config) is refused."""
    article = Article(source="wallstreetcn", id="1", url="https://wallstreetcn.com/articles/1", title="t", published=1, body_html="")
    site = tmp_path / "site"

    def crawler(template: str) -> Any:
        return SimpleNamespace(settings=Settings({"SITE_REPO": str(site), "OUTPUT_DIR": str(tmp_path / "out"), "ARTICLE_PATH": template}))

    assert output_path(crawler(TEMPLATE), article) == site.resolve() / POSTS / "1.md"
    for template in ("{id}.md", "README{id}.md", "layouts/{id}.md", "content{id}.md"):
        with pytest.raises(UnsafePath):
            output_path(crawler(template), article)


@settings(max_examples=300, deadline=None)
@given(part=st.one_of(st.text(), st.sampled_from(HOSTILE_PARTS), st.from_regex(r"[./\\a-z0-9 ]{0,12}", fullmatch=True),
                      st.sampled_from(["index", "_index", "Index", "x.md", "-1", "~", "a b"])))
def test_any_id_is_refused_or_strictly_inside_the_root(part: str, root: Path) -> None:
    try:
        path = article_path(root, TEMPLATE, source="wallstreetcn", id=part)
    except UnsafePath as exc:
        assert exc.reason == "unsafe-path"
        return
    assert_safe(path, root)
    assert path.stem.lower() not in ("index", "_index")
    assert path.stem == part  # nothing rewritten behind the caller's back
    assert check_part("id", part) == part


# --- wallstreetcn ids ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE_WSCN_IDS, ids=repr)
def test_hostile_wallstreetcn_ids_are_bad_ids(value: Any) -> None:
    with pytest.raises(SourceError) as info:
        wscn.valid_id(value)
    assert info.value.reason == "bad-id"


@pytest.mark.parametrize(("value", "expected"), [(3740710, "3740710"), ("3740710", "3740710"), (1, "1")])
def test_wallstreetcn_ids_as_the_api_sends_them(value: Any, expected: str) -> None:
    assert wscn.valid_id(value) == expected


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.from_regex(r"[-+ ]?[0-9٠-٩]{1,8}[ .]?", fullmatch=True),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=5,
)


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_any_wallstreetcn_id_is_refused_or_a_safe_path(value: Any, root: Path) -> None:
    try:
        article_id = wscn.valid_id(value)
    except SourceError as exc:
        assert exc.reason == "bad-id"
        return
    assert article_id.isascii() and article_id.isdigit() and int(article_id) > 0
    assert_safe(article_path(root, TEMPLATE, source="wallstreetcn", id=article_id), root)
    assert wscn.detail_url("http://api", article_id) == f"http://api/apiv1/content/articles/{article_id}?extract=0"


@settings(max_examples=300, deadline=None)
@given(value=json_values, time=json_values)
def test_any_listing_item_is_named_or_gives_a_checked_id_and_time(value: Any, time: Any) -> None:
    item = {"id": value, "display_time": time} if value is not None else time
    try:
        article_id = wscn.item_id(item)
        shown = wscn.item_time(item)
    except SourceError as exc:
        assert exc.reason in {"bad-item", "missing-id", "bad-id", "missing-time", "bad-time"}
        return
    assert wscn.valid_id(article_id) == article_id
    assert isinstance(shown, int) and not isinstance(shown, bool) and shown > 0


@pytest.mark.parametrize(
    ("item", "reason"),
    [("not an object", "bad-item"), ([1], "bad-item"), ({"display_time": 1790650000}, "missing-id"),
     ({"id": "../../x", "display_time": 1790650000}, "bad-id"), ({"id": {"a": 1}, "display_time": 1790650000}, "bad-id"),
     ({"id": 9}, "missing-time"), ({"id": 9, "display_time": "yesterday"}, "bad-time"),
     ({"id": 9, "display_time": True}, "bad-time"), ({"id": 9, "display_time": -1}, "bad-time"),
     ({"id": 9, "display_time": 1.5e9}, "bad-time"), ({"id": 9, "display_time": 10**20}, "bad-time")],
)
def test_bad_listing_items_are_named(item: Any, reason: str) -> None:  # hand-made
    with pytest.raises(SourceError) as info:
        wscn.item_id(item)
        wscn.item_time(item)
    assert info.value.reason == reason


def detail(**changes: Any) -> dict[str, Any]:
    answer = json.loads((WSCN / "article-3740710.json").read_text(encoding="utf-8"))
    answer["data"].update(changes)
    return answer


def test_a_detail_answer_must_name_the_article_asked_for() -> None:
    assert wscn.article_from_detail(detail()["data"], "3740710").id == "3740710"
    assert wscn.article_from_detail(detail(id="3740710")["data"], "3740710").id == "3740710"
    with pytest.raises(SourceError) as info:
        wscn.article_from_detail(detail()["data"], "3782700")
    assert info.value.reason == "id-mismatch"
    for value in ("../../x", ".hidden", -1, 1.5, True):
        with pytest.raises(SourceError) as info:
            wscn.article_from_detail(detail(id=value)["data"], "3740710")
        assert info.value.reason == "bad-id"


def test_article_urls_take_only_checked_ids() -> None:
    assert wscn.id_from_url("https://wallstreetcn.com/articles/3740710?x=1") == "3740710"
    for url in ("https://wallstreetcn.com/articles/٣٧٤", "https://wallstreetcn.com/articles/0", "https://wallstreetcn.com/articles/0123"):
        assert wscn.id_from_url(url) is None
    assert wscn.detail_url("http://api/", "1/../2") == "http://api/apiv1/content/articles/1%2F..%2F2?extract=0"


# --- WeChat identities --------------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE_WECHAT_IDS)
def test_hostile_wechat_identities_are_refused(value: str) -> None:
    assert not is_identity(value)


@pytest.mark.parametrize("url", HOSTILE_WECHAT_URLS)
def test_hostile_wechat_urls_name_no_identity(url: str) -> None:
    assert article_identity(url) is None


def test_documented_wechat_identities() -> None:
    assert article_identity("https://mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw") == "s_KDWh_qGpFN5Vu1TR9t30Mw"
    assert article_identity("https://mp.weixin.qq.com/s?__biz=MzIzNDcyMTI5MQ==&mid=2247664546&idx=2&sn=x") == "3234721291_2247664546_2"
    assert is_identity("s_" + "a" * 64) and is_identity("s_abcdefgh") and is_identity("1_2_3")


@settings(max_examples=300, deadline=None)
@given(token=st.text(), mid=st.text(), biz=st.text())
def test_any_wechat_url_names_a_safe_identity_or_none(token: str, mid: str, biz: str) -> None:
    for url in (f"https://mp.weixin.qq.com/s/{token}", f"https://mp.weixin.qq.com/s?__biz={biz}&mid={mid}&idx=1"):
        identity = article_identity(url)
        if identity is not None:
            assert is_identity(identity)
            assert check_part("id", identity) == identity


NORMAL_PAGE = "wechat/pages/wae_normal_01_xuanyuan_code.html.gz"
TOKEN, BIZ = "KDWh_qGpFN5Vu1TR9t30Mw", "MzIyNjMxOTY0NA=="


@pytest.mark.parametrize(
    ("token", "biz"),
    [("a" * 65, "Li4vLi4v"), ("a" * 70, "not-base64!"), ("x" * 200, "MTIzLzQ1Ng==")],  # "../../", junk, "123/456"
)
def test_a_wechat_page_naming_no_documented_identity_is_bad_id(token: str, biz: str) -> None:
    """The recorded page with its own links and account made hostile (hand-made)."""
    html = fixture_text(NORMAL_PAGE).replace(TOKEN, token).replace(BIZ, biz)
    with pytest.raises(SourceError) as info:
        wechat.article_from_page(wechat.classify(html, f"https://mp.weixin.qq.com/s/{token}"))
    assert info.value.reason == "bad-id"
    good = wechat.article_from_page(wechat.classify(fixture_text(NORMAL_PAGE), f"https://mp.weixin.qq.com/s/{TOKEN}"))
    assert good.id == f"s_{TOKEN}"


# --- through a real crawl ------------------------------------------------------------------------

LISTING = "/apiv1/content/articles"
#: detail answers that lie about their id (hand-made from the recorded 3740710 answer)
LYING_DETAILS = {9000001: "../../x", 9000002: "../../../../escaped", 9000003: ".hidden", 9000004: "..", 9000005: 3740710}
#: listing items that are bad on their own (hand-made), put in the middle of the page
BAD_ITEMS: list[Any] = [
    {"id": "../../x", "display_time": 1790654000},
    "not an object",
    {"id": {"a": 1}, "display_time": 1790654000},
    {"title": "no id", "display_time": 1790654000},
    {"id": 9100001, "display_time": "yesterday"},
    {"id": 9100002},
]


@pytest.fixture(scope="module")
def hostile_crawl(tmp_path_factory: pytest.TempPathFactory):
    """One listing page: a good article, the lying details, the bad items, then a good article."""
    tmp = tmp_path_factory.mktemp("hostile-ids")
    items: list[Any] = [{"id": 3782700, "display_time": 1790654990, "layout": "wscn-layout"}]
    items += [{"id": i, "display_time": 1790654500 - n, "layout": "wscn-layout"} for n, i in enumerate(LYING_DETAILS)]
    items += BAD_ITEMS
    items += [{"id": 3740710, "display_time": 1739161876, "layout": "wscn-layout"}]
    (tmp / "listing.json").write_text(json.dumps({"code": 20000, "message": "OK", "data": {"items": items, "next_cursor": ""}}))
    routes = [{"path": LISTING, "query": {"limit": "30"}, "file": str(tmp / "listing.json")},
              {"path": f"{LISTING}/3782700", "query": {"extract": "0"}, "file": str(WSCN / "article-3782700.json")},
              {"path": f"{LISTING}/3740710", "query": {"extract": "0"}, "file": str(WSCN / "article-3740710.json")}]
    for article_id, lie in LYING_DETAILS.items():
        (tmp / f"{article_id}.json").write_text(json.dumps(detail(id=lie)))
        routes.append({"path": f"{LISTING}/{article_id}", "query": {"extract": "0"}, "file": str(tmp / f"{article_id}.json")})
    before = {p for p in tmp.rglob("*")}
    with MockServer({"routes": routes}, tmp) as server:
        result = run_crawl("wallstreetcn", tmp / "deep" / "er" / "out", settings={"WALLSTREETCN_API_BASE": server.url, "RETRY_ENABLED": "0"})
        result.requests = server.requests()
    new = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p not in before and p.is_file())
    return result, new


def test_lying_detail_ids_write_nothing_anywhere(hostile_crawl) -> None:
    result, new = hostile_crawl
    assert "Traceback" not in result.log
    articles = [p for p in new if not p.startswith("deep/er/out/.state/") and p not in ("routes.json",)]
    assert articles == [f"deep/er/out/{POSTS}/3740710.md", f"deep/er/out/{POSTS}/3782700.md"]
    failed = {(e["url"], e["reason"]) for e in result.report()["failed"]}
    for article_id, lie in LYING_DETAILS.items():
        reason = "id-mismatch" if isinstance(lie, int) else "bad-id"
        assert (f"https://wallstreetcn.com/articles/{article_id}", reason) in failed


def test_bad_listing_items_fail_alone_and_the_page_goes_on(hostile_crawl) -> None:
    result, _ = hostile_crawl
    listing = result.report()["failed"]
    base = next(e["url"] for e in listing if "#item-" in e["url"]).split("#")[0]
    assert base.endswith(f"{LISTING}?limit=30")
    first = 1 + len(LYING_DETAILS)
    expected = {
        (f"{base}#item-{first}", "bad-id"), (f"{base}#item-{first + 1}", "bad-item"), (f"{base}#item-{first + 2}", "bad-id"),
        (f"{base}#item-{first + 3}", "missing-id"), ("https://wallstreetcn.com/articles/9100001", "bad-time"),
        ("https://wallstreetcn.com/articles/9100002", "missing-time"),
    }
    assert expected <= {(e["url"], e["reason"]) for e in listing}
    assert f"{LISTING}/3740710?extract=0" in result.requests  # the item after the bad ones was fetched
    assert not [r for r in result.requests if ".." in r or "%2F" in r or "9100001" in r]
    assert result.report()["listing_failed"] == []
    assert result.returncode == 3


def test_lying_ids_never_touch_the_site_repo_outside_its_posts(tmp_path: Path) -> None:
    """The issue's case (hand-made answers): with SITE_REPO set, ids climbing to the site's README.md
    and content/_index.md fail bad-id; those files stay byte for byte, only the real article is committed."""
    site = tmp_path / "site"
    (site / "content").mkdir(parents=True)
    (site / "README.md").write_text("site readme\n")
    (site / "content" / "_index.md").write_text("---\ntitle: home\n---\n")
    env = {"GIT_AUTHOR_NAME": "editor", "GIT_AUTHOR_EMAIL": "e@example.com", "GIT_COMMITTER_NAME": "editor",
           "GIT_COMMITTER_EMAIL": "e@example.com", "PATH": "/usr/bin:/bin"}
    for command in (["init", "--quiet", "--initial-branch=main"], ["add", "."], ["commit", "--quiet", "-m", "site"]):
        subprocess.run(["git", "-C", str(site), *command], check=True, capture_output=True, env=env)
    lies = {9000011: "../../../README", 9000012: "../../_index", 9000013: "../../../content/_index"}
    items = [{"id": 3782700, "display_time": 1790654990, "layout": "wscn-layout"}]
    items += [{"id": i, "display_time": 1790654500, "layout": "wscn-layout"} for i in lies]
    (tmp_path / "listing.json").write_text(json.dumps({"code": 20000, "message": "OK", "data": {"items": items, "next_cursor": ""}}))
    routes = [{"path": LISTING, "query": {"limit": "30"}, "file": str(tmp_path / "listing.json")},
              {"path": f"{LISTING}/3782700", "query": {"extract": "0"}, "file": str(WSCN / "article-3782700.json")}]
    for article_id, lie in lies.items():
        (tmp_path / f"{article_id}.json").write_text(json.dumps(detail(id=lie)))
        routes.append({"path": f"{LISTING}/{article_id}", "query": {"extract": "0"}, "file": str(tmp_path / f"{article_id}.json")})
    with MockServer({"routes": routes}, tmp_path) as server:
        result = run_crawl("wallstreetcn", tmp_path / "out", settings={
            "WALLSTREETCN_API_BASE": server.url, "SITE_REPO": str(site), "SITE_REMOTE": ""})
    assert (site / "README.md").read_text() == "site readme\n"
    assert (site / "content" / "_index.md").read_text() == "---\ntitle: home\n---\n"
    failed = {(e["url"], e["reason"]) for e in result.report()["failed"]}
    assert failed == {(f"https://wallstreetcn.com/articles/{i}", "bad-id") for i in lies}
    files = subprocess.run(["git", "-C", str(site), "ls-files"], check=True, capture_output=True, text=True).stdout.split()
    assert sorted(files) == ["README.md", "content/_index.md", f"{POSTS}/3782700.md"]
    status = subprocess.run(["git", "-C", str(site), "status", "--porcelain"], check=True, capture_output=True, text=True).stdout
    assert status == ""
