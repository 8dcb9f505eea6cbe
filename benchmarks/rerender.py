"""Benchmark: ``scrapy rerender`` over a synthesized store of N articles (default 10,000).

    .venv/bin/python benchmarks/rerender.py [--articles 10000] [--wechat 100] [--keep DIR]

Synthesizes a state store and raw archive as crawls would have left them: copies of the recorded
wallstreetcn answers (``tests/fixtures/wallstreetcn``), each under its own id, and ``--wechat`` copies
of a recorded WeChat page, each under its own short-link token. Their files do not exist yet, so the
first re-render writes every one (the worst case: every file rewritten); a second one, with
``SUMMARY_LENGTH`` changed, rewrites every file again over the existing ones. Prints the wall time
and the peak RSS of each ``scrapy rerender`` process (``getrusage`` of the child).
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines import archive  # noqa: E402
from pipelines.archive import RawSource  # noqa: E402
from pipelines.state import StateStore  # noqa: E402

WSCN = ROOT / "tests" / "fixtures" / "wallstreetcn"
WECHAT_PAGE = ROOT / "tests" / "fixtures" / "wechat" / "pages" / "wae_normal_01_xuanyuan_code.html.gz"
WECHAT_TOKEN = "KDWh_qGpFN5Vu1TR9t30Mw"
FETCHED = "2026-12-01T08:00:00+00:00"


def synthesize(output: Path, articles: int, wechat: int) -> None:
    """A state store and raw archive holding ``articles`` stored articles, ``wechat`` of them WeChat pages."""
    root = output / ".state" / "archive"
    store = StateStore(output / ".state" / "state.sqlite3")
    answers = [json.loads((WSCN / name).read_text(encoding="utf-8")) for name in ("article-3740710.json", "article-3782700.json")]
    page = gzip.decompress(WECHAT_PAGE.read_bytes())
    headers = {"content-type": "application/json; charset=utf-8"}
    for n in range(articles - wechat):
        article_id = str(4000000 + n)
        answer = json.loads(json.dumps(answers[n % 2]))
        answer["data"]["id"] = int(article_id)
        answer["data"]["source_uri"] = ""  # each copy its own article: no shared WeChat alias
        body = json.dumps(answer, ensure_ascii=False).encode()
        raw = RawSource("wallstreetcn", f"https://api-one-wscn.awtmt.com/apiv1/content/articles/{article_id}?extract=0",
                        body, FETCHED, headers, context={"article_id": article_id})
        archive.store(root, f"wallstreetcn:{article_id}", raw)
        store.record(key=f"wallstreetcn:{article_id}", source="wallstreetcn", id=article_id,
                     url=f"https://wallstreetcn.com/articles/{article_id}", document_hash="synthesized",
                     path=f"content/posts/wallstreetcn/{article_id}.md", now=FETCHED)
    for n in range(wechat):
        token = f"bench{n:017d}"
        url = f"https://mp.weixin.qq.com/s/{token}"
        raw = RawSource("wechat", url, page.replace(WECHAT_TOKEN.encode(), token.encode()), FETCHED,
                        {"content-type": "text/html; charset=utf-8"}, context={"reached_by": [url]})
        archive.store(root, f"wechat:s_{token}", raw)
        store.record(key=f"wechat:s_{token}", source="wechat", id=f"s_{token}", url=url, document_hash="synthesized",
                     path=f"content/posts/wechat/s_{token}.md", now=FETCHED)
    store.close()


def rerender(output: Path, *settings: str) -> tuple[float, float, str]:
    """One ``scrapy rerender``: wall seconds, peak RSS in MiB, its summary line."""
    command = [sys.executable, "-m", "scrapy", "rerender", "-s", f"OUTPUT_DIR={output}", "-s", "PROGRESS_INTERVAL=0"]
    for setting in settings:
        command += ["-s", setting]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.monotonic()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.monotonic() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest child so far (KiB)
    summary = next((line for line in proc.stderr.splitlines() if "Run summary" in line), proc.stderr[-2000:])
    if proc.returncode != 0:
        raise SystemExit(f"scrapy rerender exited {proc.returncode}: {summary}")
    return seconds, max(peak, before) / 1024, summary.split("SUMMARY: ", 1)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--wechat", type=int, default=100, help="how many of them are WeChat pages")
    parser.add_argument("--keep", type=Path, help="synthesize into this folder and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        output = args.keep or Path(scratch) / "out"
        start = time.monotonic()
        synthesize(output, args.articles, args.wechat)
        print(f"synthesized {args.articles} stored articles ({args.wechat} WeChat) in {time.monotonic() - start:.0f}s")
        for label, settings in (("first re-render (every file written)", ()),
                                ("re-render after SUMMARY_LENGTH=80 (every file rewritten)", ("SUMMARY_LENGTH=80",))):
            seconds, peak, summary = rerender(output, *settings)
            print(f"{label}: {seconds:.0f}s wall, {args.articles / seconds:.0f} articles/s, peak RSS {peak:.0f} MiB\n  {summary}")


if __name__ == "__main__":
    main()
