"""Parsing wallstreetcn API answers (no crawl): envelopes, paid rules, disclaimer, attribution."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup

from crawler.sources import SourceError
from crawler.sources import wallstreetcn as source
from tests.conftest import WSCN


def detail(name: str) -> dict:
    return json.loads((WSCN / name).read_text(encoding="utf-8"))["data"]


def test_error_envelope_names_the_code() -> None:
    with pytest.raises(SourceError) as info:
        source.envelope_data((WSCN / "error-71404.json").read_bytes())
    assert info.value.reason == "api-error"
    assert "71404" in info.value.detail


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"<html>busy</html>", "bad-json"), (b"[1, 2]", "bad-envelope"), (b'{"message": "x"}', "bad-envelope")],
)
def test_malformed_answers_are_named(body: bytes, reason: str) -> None:  # hand-made edge cases
    with pytest.raises(SourceError) as info:
        source.envelope_data(body)
    assert info.value.reason == reason


def test_limit_above_30_answer_is_a_listing_error() -> None:
    # The API answers ``data: ""`` when limit is too high (notes); hand-made envelope.
    with pytest.raises(SourceError, match="bad-listing"):
        source.parse_listing(source.envelope_data(b'{"code": 20000, "message": "OK", "data": ""}'))


def test_search_response_with_null_items_is_an_empty_page_and_its_paid_item_is_skipped() -> None:
    data = source.envelope_data((WSCN / "search-article.json").read_bytes())
    assert source.parse_listing(data) == ([], "")
    assert source.skip_reason(data["related_paid_article"]) == "paid"


def test_paid_detail_is_refused() -> None:
    data = detail("article-3782635-paid.json")
    assert source.is_paid(data)
    with pytest.raises(SourceError) as info:
        source.article_from_detail(data)
    assert info.value.reason == "paid"


@pytest.mark.parametrize(
    "flags",
    [{"is_priced": True}, {"is_need_pay": True}, {"is_vip": 1}, {"vip_type": "svip"}, {"membership_uri": "x"},
     {"product_id": 7}, {"uri": "https://wallstreetcn.com/premium/articles/1"}],
)
def test_each_paid_rule(flags: dict) -> None:
    free = detail("article-3782700.json")
    assert not source.is_paid(free)
    assert source.is_paid(free | flags)


@pytest.mark.parametrize("missing", ["title", "content"])
def test_missing_title_or_content_is_an_error(missing: str) -> None:
    data = detail("article-3782700.json") | {missing: ""}
    with pytest.raises(SourceError) as info:
        source.article_from_detail(data)
    assert info.value.reason == f"missing-{missing}"
    assert "3782700" in info.value.detail


def test_site_disclaimer_divs_are_removed_wherever_they_appear() -> None:
    article = source.article_from_detail(detail("article-3782700.json"))
    assert "风险提示及免责条款" not in article.body_html
    assert "据此投资，责任自负" not in article.body_html
    # Hand-made: the same divs in the middle of a body go too, the text around them stays.
    html = "<p>一</p><div>风险提示及免责条款</div><div> 市场有风险，投资需谨慎。…据此投资，责任自负。 </div><p>二</p>"
    soup = BeautifulSoup(html, "lxml")
    source.strip_site_disclaimer(soup)
    assert soup.get_text() == "一二"


def test_republish_with_own_attribution_gets_no_second_one() -> None:
    article = source.article_from_detail(detail("article-3740710.json"))
    assert article.attribution is None
    assert article.aliases == ["wechat:3271041950_2652564074_1"]


def test_republish_without_attribution_gets_one() -> None:
    data = detail("article-3740710.json")
    data["content"] = data["content"].split("<p>来源：")[0]
    article = source.article_from_detail(data)
    assert article.attribution is not None
    assert article.attribution.name == "新智元"
    assert article.attribution.url == data["source_uri"]
    assert article.attribution.title == data["title"]


def test_own_article_has_no_attribution() -> None:
    article = source.article_from_detail(detail("article-3782700.json"))
    assert article.attribution is None and article.aliases == []
    assert article.url == "https://wallstreetcn.com/articles/3782700"
    assert article.cover == "https://wpimg-wscn.awtmt.com/e299e002-a570-45b9-bdb5-a4df776154a2.png"
    assert article.description == detail("article-3782700.json")["content_short"]  # the summary of a body without text
    assert article.description.startswith("团队仅14人、创始人今年仅23岁")


@pytest.mark.parametrize(
    ("url", "expected"),
    [("https://wallstreetcn.com/articles/3740710", "3740710"), ("https://wallstreetcn.com/articles/3740710?x=1", "3740710"),
     ("https://wallstreetcn.com/a/3740710", "3740710"), ("https://wallstreetcn.com/livenews/3740710", None),
     ("https://example.com/articles/3740710", None)],
)
def test_id_from_url(url: str, expected: str | None) -> None:
    assert source.id_from_url(url) == expected


@pytest.mark.parametrize(("value", "reason"), [  # hand-made: times an upstream could send
    (None, "missing-time"), ("", "missing-time"), ("x", "bad-time"), (0, "bad-time"), (-1, "bad-time"),
    (10**20, "bad-time"), (1.5e9, "bad-time"), (True, "bad-time"), ([1790650000], "bad-time"),
])
def test_unusable_detail_time_is_named_at_the_source(value: object, reason: str) -> None:
    data = detail("article-3740710.json")
    data["display_time"] = value
    with pytest.raises(SourceError) as info:
        source.article_from_detail(data)
    assert info.value.reason == reason
