"""What content can make us fetch (crawler.outbound): the share allow-list and the private-address gate.

The share targets below are HAND-MADE hostile values: the recorded share page
(wae_share_03, a real js_share_source page) with its ``data-url`` replaced, as an
attacker publishing a share could set it.
"""

from __future__ import annotations

import gzip
import ipaddress
import re
from pathlib import Path

import pytest
from scrapy.settings import Settings

from crawler.outbound import check_url, ip_literal, is_public, list_setting, parse_networks, refusal
from tests.conftest import WECHAT, CrawlResult, MockServer, run_crawl, wechat_route

ALLOWED = ["mp.weixin.qq.com"]
SHARE_PAGE = WECHAT / "pages" / "wae_share_03_ruanyifeng_js_share_source.html.gz"
SHARE_SOURCE = re.compile(r'data-url="[^"]*"(?= class="weui-link" id="js_share_source")')
#: hand-made share targets → what the refusal says
REFUSED_SHARES = {
    "file": ("file:///etc/passwd", "scheme 'file'"),
    "metadata-ip": ("http://169.254.169.254/latest/meta-data/", "IP address (169.254.169.254)"),
    "loopback": ("http://127.0.0.1:9/s/abcdefgh12", "IP address (127.0.0.1)"),
    "decimal-ip": ("http://2130706433/s/abcdefgh12", "IP address (127.0.0.1)"),
    "hex-ip": ("http://0x7f000001/s/abcdefgh12", "IP address (127.0.0.1)"),
    "octal-ip": ("http://0177.0.0.1/s/abcdefgh12", "IP address (127.0.0.1)"),
    "short-ip": ("http://127.1/s/abcdefgh12", "IP address (127.0.0.1)"),
    "ipv6-loopback": ("http://[::1]/s/abcdefgh12", "IP address (::1)"),
    "ipv4-mapped-ipv6": ("http://[::ffff:169.254.169.254]/", "IP address"),
    "data": ("data:text/html,<script>alert(1)</script>", "scheme 'data'"),
    "ftp": ("ftp://mp.weixin.qq.com/s/abcdefgh12", "scheme 'ftp'"),
    "javascript": ("javascript:alert(1)", "scheme 'javascript'"),
    "lookalike": ("https://mp.weixin.qq.com.evil.example/s/abcdefgh12", "not in the allowed hosts"),
    "suffix-lookalike": ("https://evilmp.weixin.qq.com/s/abcdefgh12", "not in the allowed hosts"),
    "userinfo": ("https://mp.weixin.qq.com@evil.example/s/abcdefgh12", "userinfo"),
    "userinfo-password": ("https://mp.weixin.qq.com:443@169.254.169.254/", "userinfo"),
    "backslash": ("https://evil.example\\@mp.weixin.qq.com/s/abcdefgh12", "backslashes"),
    "newline": ("https://mp.weixin.qq.com/s/abc\nevil", "whitespace"),
    "relative": ("//mp.weixin.qq.com/s/abcdefgh12", "scheme '(none)'"),
    "bad-port": ("https://mp.weixin.qq.com:99999/s/abcdefgh12", "unparsable"),
    "other-host": ("https://example.org/s/abcdefgh12", "not in the allowed hosts"),
}
ALLOWED_SHARES = [
    "http://mp.weixin.qq.com/s?__biz=MzIxNzE3MjEwNg%3D%3D&mid=2247483687&idx=1&sn=8c05352c98185e08f8100947f6f0b621&scene=45#wechat_redirect",
    "https://mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw",
    "https://MP.Weixin.QQ.com./s/KDWh_qGpFN5Vu1TR9t30Mw",  # case and a trailing dot are the same host
    "https://sub.mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw",  # a subdomain of a listed domain
]


@pytest.mark.parametrize("name", sorted(REFUSED_SHARES))
def test_share_targets_outside_the_allow_list_are_refused(name: str) -> None:
    url, why = REFUSED_SHARES[name]
    refused = check_url(url, ALLOWED)
    assert refused is not None and why in refused, refused


@pytest.mark.parametrize("url", ALLOWED_SHARES)
def test_wechat_hosts_are_allowed(url: str) -> None:
    assert check_url(url, ALLOWED) is None


def test_an_ip_literal_is_allowed_only_when_listed_itself() -> None:
    assert check_url("http://127.0.0.1:8080/s/x", ["127.0.0.1"]) is None
    assert check_url("http://2130706433:8080/s/x", ["127.0.0.1"]) is None  # the same address, written otherwise
    assert check_url("http://127.0.0.2/s/x", ["127.0.0.1"]) is not None
    assert check_url("http://1.0.0.127/", ["0.0.127"]) is not None  # no "subdomain" of a number
    assert check_url("https://mp.weixin.qq.com/s/x", []) is not None  # nothing listed: nothing goes


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"), ("2130706433", "127.0.0.1"), ("0x7f000001", "127.0.0.1"), ("0X7F.0.0.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"), ("127.1", "127.0.0.1"), ("127.0.1", "127.0.0.1"), ("169.254.169.254.", "169.254.169.254"),
        ("[::1]", "::1"), ("::ffff:a9fe:a9fe", "::ffff:169.254.169.254"),
        ("999.1.1.1", "0.0.0.0"), ("evil.123", "0.0.0.0"), ("1.2.3.4.5", "0.0.0.0"),  # numeric-looking, unparsable: refused
    ],
)
def test_ip_literals_in_every_form_a_resolver_takes(host: str, address: str) -> None:
    assert ip_literal(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize("host", ["mp.weixin.qq.com", "1x.example", "localhost", "0x.example.org"])
def test_names_are_not_ip_literals(host: str) -> None:
    assert ip_literal(host) is None


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
     "239.255.255.250", "240.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "ff02::1", "::ffff:10.0.0.1"],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))
    assert refusal(ipaddress.ip_address(address), []) is not None


def test_public_addresses_and_allowed_networks_pass() -> None:
    assert is_public(ipaddress.ip_address("8.8.8.8")) and is_public(ipaddress.ip_address("2606:4700::1111"))
    allowed = parse_networks(["127.0.0.0/8", "::1"])
    assert refusal(ipaddress.ip_address("127.0.0.5"), allowed) is None
    assert refusal(ipaddress.ip_address("::1"), allowed) is None
    assert refusal(ipaddress.ip_address("10.0.0.1"), allowed) is not None


def test_list_settings_from_settings_py_json_or_commas() -> None:
    settings = Settings({"A": ["x", " y "], "B": '["127.0.0.0/8", "::1/128"]', "C": "a.example, b.example", "D": ""})
    assert list_setting(settings, "A") == ["x", "y"]
    assert list_setting(settings, "B") == ["127.0.0.0/8", "::1/128"]
    assert list_setting(settings, "C") == ["a.example", "b.example"]
    assert list_setting(settings, "D") == []


# --- through a real crawl ------------------------------------------------------------------------------


def share_page(target: str) -> bytes:
    """The recorded share page pointing at ``target`` (hand-made, see the module docstring)."""
    html = gzip.decompress(SHARE_PAGE.read_bytes()).decode("utf-8")
    html, count = SHARE_SOURCE.subn(lambda _: f'data-url="{target}"', html, count=1)
    assert count == 1
    return gzip.compress(html.encode("utf-8"), compresslevel=1, mtime=0)


def crawled(log: str, target: str) -> bool:
    """Whether Scrapy's downloader requested a URL containing ``target``."""
    return re.search(rf"Crawled \(\d+\) <GET [^>]*{re.escape(target)}", log) is not None


@pytest.fixture(scope="module")
def share_crawl(tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    """One wechat crawl of a share page per hostile target, served by the replay server."""
    tmp = tmp_path_factory.mktemp("shares")
    routes, urls = [], {}
    for name, (target, _) in REFUSED_SHARES.items():
        url = f"https://mp.weixin.qq.com/s/share_{name.replace('-', '_')}_x"
        (tmp / f"{name}.html.gz").write_bytes(share_page(target))
        routes.append(wechat_route(url, tmp / f"{name}.html.gz"))
        urls[url] = target
    with MockServer({"routes": routes}, tmp) as server:
        result = run_crawl("wechat", tmp / "out", f"urls={','.join(urls)}", settings={"WECHAT_BASE": server.url})
        result.requests = server.requests()
    return result


def test_shares_to_hostile_targets_fail_disallowed_url(share_crawl: CrawlResult) -> None:
    assert "Traceback" not in share_crawl.log
    report = share_crawl.report()
    failed = {entry["url"]: entry for entry in report["failed"]}
    for name in REFUSED_SHARES:
        entry = failed[f"https://mp.weixin.qq.com/s/share_{name.replace('-', '_')}_x"]
        assert entry["reason"] == "disallowed-url", (name, entry)
    assert share_crawl.stats()["article/failed/disallowed-url"] == len(REFUSED_SHARES)
    assert "(SHARE_ALLOWED_HOSTS)" in share_crawl.log
    assert share_crawl.files() == {} and share_crawl.returncode == 3


def test_shares_to_hostile_targets_are_never_requested(share_crawl: CrawlResult) -> None:
    log = share_crawl.log
    for target in ("file:///etc/passwd", "169.254.169.254", "127.0.0.1:9/", "2130706433", "0x7f000001", "[::1]",
                   "evil.example", "example.org", "ftp://", "data:"):
        assert not crawled(log, target), target
    # the replay server saw the share pages and nothing else (a WeChat target would have come to it)
    assert sorted(share_crawl.requests) == sorted(f"/s/share_{n.replace('-', '_')}_x" for n in REFUSED_SHARES)
    assert "root:" not in log  # /etc/passwd was not read


def test_private_addresses_are_refused_for_user_urls_and_redirects(tmp_path: Path) -> None:
    """Requests to non-public addresses fail ``disallowed-url`` before any connection: user-given URLs
    (literal or resolved names) and redirects. Only the replay server's own address is allowed here."""
    redirects = {
        "/s/redirect_to_metadata_x": "http://169.254.169.254/latest/meta-data/",
        "/s/redirect_to_loopback_x": "http://127.0.0.2:9/s/abcdefgh12",
        "/s/redirect_to_file_x": "file:///etc/passwd",
    }
    routes = [{"path": path, "status": 302, "headers": {"Location": target}, "body": ""} for path, target in redirects.items()]
    routes.append(wechat_route("https://mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw", WECHAT / "pages" / "wae_normal_01_xuanyuan_code.html.gz"))
    with MockServer({"routes": routes}, tmp_path) as server:
        direct = ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.2:9/s/abcdefgh12",
                  "http://2130706434:9/s/abcdefgh12", "http://[::1]:9/s/abcdefgh12", "http://10.0.0.1:9/s/abcdefgh12",
                  f"http://mp.weixin.qq.com@{server.url.split('//')[1]}/s/KDWh_qGpFN5Vu1TR9t30Mw"]  # userinfo: refused
        via = [f"{server.url}{path}" for path in redirects]
        urls = [*direct, *via, "https://mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw"]
        result = run_crawl("wechat", tmp_path / "out", f"urls={','.join(urls)}", settings={
            "WECHAT_BASE": server.url, "ALLOWED_PRIVATE_NETWORKS": '["127.0.0.1/32"]', "RETRY_ENABLED": "0"})
    assert "Traceback" not in result.log
    failed = {entry["url"]: entry["reason"] for entry in result.report()["failed"]}
    for url in [*direct, via[0], via[1]]:
        assert failed.get(url) == "disallowed-url", (url, failed.get(url))
    # Scrapy follows redirects to http(s) only: the one to file:// ends as the redirect itself, named
    assert failed[via[2]] in ("http-302", "disallowed-url")
    for target in ("169.254.169.254", "127.0.0.2", "2130706434", "[::1]", "10.0.0.1", "file:"):
        assert not crawled(result.log, target), target
    assert sorted(result.files()) == ["content/posts/wechat/s_KDWh_qGpFN5Vu1TR9t30Mw.md"]  # the allowed server works


def test_demo_allows_its_own_replay_server(tmp_path: Path) -> None:
    """``-a demo=1`` adds 127.0.0.1/32 itself: it works with no ALLOWED_PRIVATE_NETWORKS at all."""
    result = run_crawl("wechat", tmp_path / "out", "demo=1", "urls=https://mp.weixin.qq.com/s/SbB40tES2MrfoNaIPima5A",
                       settings={"ALLOWED_PRIVATE_NETWORKS": "[]"})
    assert sorted(result.files()) == ["content/posts/wechat/s_SbB40tES2MrfoNaIPima5A.md"], result.log[-2000:]


def test_a_name_resolving_to_loopback_is_refused_by_default(tmp_path: Path) -> None:
    """With no private network allowed (the default) the replay server, reached by the name ``localhost``,
    is refused once the name is resolved: nothing reaches it."""
    routes = {"routes": [wechat_route("https://mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw", WECHAT / "pages" / "wae_normal_01_xuanyuan_code.html.gz")]}
    with MockServer(routes, tmp_path) as server:
        base = server.url.replace("127.0.0.1", "localhost")
        result = run_crawl("wechat", tmp_path / "out", "urls=https://mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw",
                           settings={"WECHAT_BASE": base, "ALLOWED_PRIVATE_NETWORKS": "[]"})
        assert server.requests() == []
    assert "Traceback" not in result.log
    assert result.stats()["article/failed/disallowed-url"] == 1
    assert re.search(r"disallowed-url \(http://localhost:\d+/s/KDWh_qGpFN5Vu1TR9t30Mw: localhost: address (127\.0\.0\.1|::1) is private", result.log)
    assert result.files() == {}
