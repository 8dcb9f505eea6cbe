"""What travels from a distributed crawl's workers to its writer (``crawler.distributed.codec``):
JSON the writer checks field by field, never pickle. In process; the writer's handling of hostile
entries end to end is in ``tests/test_distributed.py``."""

from __future__ import annotations

import base64
import json
import pickle
from dataclasses import replace
from pathlib import Path

import pytest

from crawler.distributed.codec import Malformed, decode_article, decode_outcome, encode_article
from pipelines.archive import RawSource
from pipelines.article import Article, Attribution


def article() -> Article:
    """Hand-made: every field set, the raw body bytes that are no UTF-8."""
    raw = RawSource(parser="wechat", url="https://mp.weixin.qq.com/s/x", body=b"\x1f\x8b\x00\xff<html>\xe4\xb8\xad",
                    fetched="2026-09-01T00:00:00+00:00", headers={"content-type": "text/html"}, status=200,
                    context={"reached_by": ["https://mp.weixin.qq.com/s/x"], "article_id": "7"})
    return Article(source="wechat", id="s_x", url="https://mp.weixin.qq.com/s/x", title="标题 “quoted”", published=1_788_220_800,
                   body_html="<p>正文</p>", cover="https://img/c.jpg", description="摘要", aliases=["wechat:abc"],
                   attribution=Attribution("来源", "https://a/b", "原文"), lastmod=1_788_220_900,
                   local_images={"https://img/1.jpg": "1.jpg"}, document="---\ntitle: x\n---\nbody\n", raw=raw)


def test_an_article_travels_whole() -> None:
    item = article()
    back = decode_article(encode_article(item))
    assert back == item and back.raw == item.raw and back.raw.body == item.raw.body
    bare = replace(item, raw=None, attribution=None, lastmod=None)
    assert decode_article(encode_article(bare)) == bare


def tampered(**changes: object) -> bytes:
    document = json.loads(encode_article(article()))
    for path, value in changes.items():
        target = document["article"]
        *parents, name = path.split("__")
        for parent in parents:
            target = target[parent]
        if value is KeyError:
            del target[name]
        else:
            target[name] = value
    return json.dumps(document).encode()


class Boom:
    """Unpickling it would create a file: proof the decoder never unpickles."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("data, why", [
    (b"\x80\x04not json", "not JSON"),
    (b"[1, 2]", "not an article entry"),
    (json.dumps({"format": 99, "article": {}}).encode(), "not an article entry of format 1"),
    (tampered(published="yesterday"), "article.published is not int"),
    (tampered(published=True), "article.published is not int"),
    (tampered(aliases=["ok", 3]), "article.aliases[1] is not str"),
    (tampered(extra="x"), "unknown field(s) 'extra'"),
    (tampered(title=KeyError), "missing 1 required"),
    (tampered(raw__body="***"), "article.raw.body is not base64"),
    (tampered(raw__context="x"), "article.raw"),
    (tampered(attribution={"name": 1}), "article.attribution"),
    (tampered(local_images={"a": None}), "article.local_images['a'] is not str"),
])
def test_a_malformed_article_is_refused_with_why(data: bytes, why: str) -> None:
    with pytest.raises(Malformed, match=None) as refused:
        decode_article(data)
    assert why in str(refused.value)


def test_a_pickled_entry_is_never_unpickled(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with pytest.raises(Malformed):
        decode_article(pickle.dumps(Boom(marker)))
    assert not marker.exists()


def test_outcomes_are_checked() -> None:
    good = json.dumps({"url": "https://x/1", "reason": "http-404", "detail": "gone", "kind": "permanent"}).encode()
    assert decode_outcome(b"failed", good) == ("failed", {"url": "https://x/1", "reason": "http-404", "detail": "gone"})
    for kind, data in (
        (b"exec", good),
        (b"failed", b"not json"),
        (b"skipped", json.dumps({"url": "https://x/1", "reason": 4}).encode()),
        (b"skipped", json.dumps({"url": "", "reason": "stored"}).encode()),
        (b"skipped", json.dumps({"url": "https://x/1", "reason": "a reason with spaces"}).encode()),
        (b"listing_failed", base64.b64encode(b"{}")),
    ):
        with pytest.raises(Malformed):
            decode_outcome(kind, data)
