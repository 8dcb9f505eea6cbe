"""Benchmark: ``scrapy rerender`` over a synthesized store of N articles (default 10,000).

    .venv/bin/python benchmarks/rerender.py [--articles 10000] [--wechat 100] [--keep DIR]

Synthesizes a state store and raw archive as crawls would have left them: copies of the recorded
wallstreetcn answers (``tests/fixtures/wallstreetcn``), each under its own id, and ``--wechat`` copies
of a recorded WeChat page, each its own article (its own short-link token, and its own ``mid``: the
page's ``__biz``/``mid``/``idx`` is an identity too, so copies sharing it would be one article).
Their files do not exist yet, so the first re-render writes every one (the worst case); a second
one, with ``SUMMARY_LENGTH`` changed, rewrites every file over the existing ones; a third, with the
same setting, rewrites none. Each pass must do exactly that, or the script stops. Prints the wall
time of each ``scrapy rerender`` process and its peak RSS: of the main process alone, and of the
whole process tree (the main process, the forkserver and the render workers: ``RENDER_WORKERS``),
sampled from ``/proc`` every 0.2 s.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
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
WECHAT_MID = "2247504179"  # the page's own mid (its __biz/mid/idx identity)
FETCHED = "2026-12-01T08:00:00+00:00"


def synthesize(output: Path, articles: int, wechat: int) -> None:
    """A state store and raw archive holding ``articles`` stored articles, ``wechat`` of them WeChat pages."""
    root = output / ".state" / "archive"
    store = StateStore(output / ".state" / "state.sqlite3")
    store.db.execute("PRAGMA synchronous=OFF")  # setup only: no fsync per synthesized record
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
        body = page.replace(WECHAT_TOKEN.encode(), token.encode()).replace(WECHAT_MID.encode(), str(3000000000 + n).encode())
        raw = RawSource("wechat", url, body, FETCHED,
                        {"content-type": "text/html; charset=utf-8"}, context={"reached_by": [url]})
        archive.store(root, f"wechat:s_{token}", raw)
        store.record(key=f"wechat:s_{token}", source="wechat", id=f"s_{token}", url=url, document_hash="synthesized",
                     path=f"content/posts/wechat/s_{token}.md", now=FETCHED)
    store.close()


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            return next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
    except OSError:
        return 0


def _tree(root: int) -> list[int]:
    """``root`` and its living descendants (from each process's parent in ``/proc/<pid>/stat``)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


class PeakRSS(threading.Thread):
    """Samples the RSS of a process and of its whole tree until it ends; peaks in KiB."""

    def __init__(self, proc: subprocess.Popen[str]):
        super().__init__(daemon=True)
        self.proc = proc
        self.main = self.tree = 0

    def run(self) -> None:
        while self.proc.poll() is None:
            self.main = max(self.main, _rss_kib(self.proc.pid))
            self.tree = max(self.tree, sum(_rss_kib(pid) for pid in _tree(self.proc.pid)))
            time.sleep(0.2)


def rerender(output: Path, *settings: str) -> tuple[float, float, float, dict[str, int], str]:
    """One ``scrapy rerender``: wall seconds, peak RSS (MiB) of its main process and of its process tree,
    the report's counts, and its summary line."""
    command = [sys.executable, "-m", "scrapy", "rerender", "-s", f"OUTPUT_DIR={output}", "-s", "PROGRESS_INTERVAL=0"]
    for setting in settings:
        command += ["-s", setting]
    start = time.monotonic()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = PeakRSS(proc)
    peak.start()
    _, stderr = proc.communicate()
    seconds = time.monotonic() - start
    peak.join()
    summary = next((line for line in stderr.splitlines() if "Run summary" in line), stderr[-2000:])
    if proc.returncode != 0:
        raise SystemExit(f"scrapy rerender exited {proc.returncode}: {summary}")
    report = json.loads(Path(re.findall(r"\n  report: (\S+\.json)\n", stderr)[-1]).read_text(encoding="utf-8"))
    return seconds, peak.main / 1024, peak.tree / 1024, report["counts"], summary.split("SUMMARY: ", 1)[-1]


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
        print(f"synthesized {args.articles} stored articles ({args.wechat} WeChat) in {time.monotonic() - start:.0f}s", flush=True)
        passes = (("first re-render (every file written)", (), "rerendered"),
                  ("re-render after SUMMARY_LENGTH=80 (every file rewritten)", ("SUMMARY_LENGTH=80",), "rerendered"),
                  ("re-render again, no change (nothing rewritten)", ("SUMMARY_LENGTH=80",), "unchanged"))
        for label, settings, expected in passes:
            seconds, main_peak, tree_peak, counts, summary = rerender(output, *settings)
            print(f"{label}: {seconds:.0f}s wall, {args.articles / seconds:.0f} articles/s, peak RSS "
                  f"{main_peak:.0f} MiB (main process), {tree_peak:.0f} MiB (process tree)\n  {summary}", flush=True)
            if counts[expected] != args.articles:
                raise SystemExit(f"expected {args.articles} {expected}, the report counts {counts}")


if __name__ == "__main__":
    main()
