"""Throughput of a distributed crawl (1, 2 and 4 workers and one writer on one Redis) next to the
single-process crawl of the same synthetic listing, on this machine.

    python -m benchmarks.redis_workers [--articles 600] [--workers 1,2,4]

The API is ``benchmarks.server`` over ``benchmarks.synthetic``'s listing (copies of a recorded
answer with its whole content); Redis is a ``redis-server`` started on a free port, in memory.
Politeness is off as in ``benchmarks.run``. Each figure is the wall time from the first process
started to the last one ended (process start-up, the writer's wait for the crawl to be idle
``MAX_IDLE_TIME_BEFORE_CLOSE`` = 1 s, included), into a fresh output folder; articles/s over that
time. Every worker runs on this machine, so past its cores more workers only share them: the
figures show the cost of the distribution here, not the gain of more machines. Exits 1 when a run
did not write every article.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.run import SETTINGS
from benchmarks.synthetic import PER_PAGE

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def scrapy(command: str, *args: str, settings: dict[str, str]) -> list[str]:
    line = [sys.executable, "-m", "scrapy", command, *args]
    for name, value in (SETTINGS | settings).items():
        line += ["-s", f"{name}={value}"]
    return line


def timed(commands: list[list[str]], logs: Path) -> float:
    """Seconds from starting ``commands`` together to the last one ending (each must exit 0)."""
    started = time.perf_counter()
    procs = []
    for n, command in enumerate(commands):
        with (logs / f"{n}.log").open("wb") as log:
            procs.append(subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT))
    codes = [proc.wait() for proc in procs]
    seconds = time.perf_counter() - started
    if codes != [0] * len(codes):
        sys.exit(f"benchmarks: exit statuses {codes} (logs: {logs})")
    return seconds


def written(output: Path) -> int:
    return sum(1 for _ in (output / "content").rglob("*.md"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.redis_workers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=600, help="wallstreetcn articles (whole listing pages of 30)")
    parser.add_argument("--workers", default="1,2,4", help="worker counts to run, comma-separated")
    args = parser.parse_args(argv)
    pages = max(1, -(-args.articles // PER_PAGE))
    articles = pages * PER_PAGE
    redis_server = shutil.which("redis-server")
    if not redis_server:
        sys.exit("benchmarks: redis-server is missing (Debian: apt-get install redis-server)")
    print(f"machine: {os.cpu_count()} CPU(s), load average {' '.join(f'{n:.2f}' for n in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory(prefix="redis-workers-") as name:
        tmp = Path(name)
        port = free_port()
        redis = subprocess.Popen([redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                  "--dir", name], stdout=subprocess.DEVNULL)
        api = subprocess.Popen([sys.executable, "-m", "benchmarks.server", str(articles)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        try:
            ready = api.stdout.readline().split() if api.stdout else []
            if ready[:1] != ["READY"]:
                sys.exit("benchmarks: the synthetic API did not start")
            base = {"WALLSTREETCN_API_BASE": ready[1]}
            single = scrapy("crawl", "wallstreetcn", "-a", f"pages={pages}", settings=base | {"OUTPUT_DIR": str(tmp / "single")})
            runs: list[tuple[str, Path, list[list[str]]]] = [("single process", tmp / "single", [single])]
            for count in (int(n) for n in args.workers.split(",")):
                settings = base | {"REDIS_URL": f"redis://127.0.0.1:{port}/0", "REDIS_KEY_PREFIX": f"bench{count}",
                                   "MAX_IDLE_TIME_BEFORE_CLOSE": "1", "OUTPUT_DIR": str(tmp / f"workers{count}")}
                writer = scrapy("writer", settings=settings)
                workers = [scrapy("crawl", "wallstreetcn", "-a", f"pages={pages}", settings=settings) for _ in range(count)]
                runs.append((f"{count} worker(s) + writer", tmp / f"workers{count}", [writer, *workers]))
            for label, output, commands in runs:
                logs = tmp / f"logs-{output.name}"
                logs.mkdir()
                seconds = timed(commands, logs)
                if written(output) != articles:
                    sys.exit(f"benchmarks: {label}: {written(output)} of {articles} articles written (logs: {logs})")
                print(f"{label:<24} {articles} articles in {seconds:6.1f} s: {articles / seconds:6.1f} articles/s", flush=True)
        finally:
            api.terminate()
            api.wait()
            redis.terminate()
            redis.wait()
    print(f"load average after: {' '.join(f'{n:.2f}' for n in os.getloadavg())}", flush=True)


if __name__ == "__main__":
    main()
