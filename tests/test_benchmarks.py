"""The benchmarks (``benchmarks/``) at a small size: a smoke test, no timing assertions."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from benchmarks import synthetic
from tests.conftest import ROOT


def test_synthetic_api_pages_through_every_article_once():
    responses = synthetic.wallstreetcn_responses(31)  # rounded up to two listing pages of 30
    first = json.loads(responses["/apiv1/content/articles?limit=30"])["data"]
    second = json.loads(responses[f"/apiv1/content/articles?limit=30&cursor={first['next_cursor']}"])["data"]
    ids = [item["id"] for item in first["items"] + second["items"]]
    assert second["next_cursor"] == "" and len(set(ids)) == 60
    detail = json.loads(responses[f"/apiv1/content/articles/{ids[-1]}?extract=0"])["data"]
    real = json.loads(synthetic.DETAIL.read_text(encoding="utf-8"))["data"]
    assert detail["id"] == ids[-1] and detail["content"] == real["content"]
    assert detail["display_time"] == second["items"][-1]["display_time"] < first["items"][0]["display_time"]


def test_saved_wechat_copies_have_their_own_identity(tmp_path):
    listing = synthetic.write_wechat_pages(tmp_path, 2)
    pages = listing.read_text(encoding="utf-8").splitlines()
    texts = [open(page, encoding="utf-8").read() for page in pages]
    assert synthetic.WECHAT_TOKEN not in texts[0] and synthetic.wechat_token(1) in texts[1]
    assert synthetic.wechat_token(1) not in texts[0]


def test_benchmark_runs_ours_and_the_floor_at_a_small_size():
    """Every benchmark at its smallest: the runner itself exits 1 unless ours wrote every
    article and the floor received every answer."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--articles", "30", "--wechat-pages", "2", "--repeat", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "wallstreetcn crawl: 30 articles" in out and "backfill of saved 3 MB WeChat pages: 2 articles" in out
    assert out.count("  ours ") == 2 and out.count("  floor ") == 2 and out.count("ratio (ours/floor") == 2
    for stage in ("parse", "classify/metadata", "clean", "convert", "front matter", "write", "bare html2text"):
        assert len(re.findall(rf"[:,] {re.escape(stage)} [0-9]", out)) == 2, stage
