"""Run a crawl and its floor back to back on synthetic input, and print how they compare.

    python -m benchmarks.run [--articles 1200] [--wechat-pages 20] [--only wallstreetcn|wechat]

wallstreetcn: ``scrapy crawl wallstreetcn`` against the synthetic API (``benchmarks.server``)
then the floor spider making the same requests; WeChat: ``scrapy crawl backfill`` of
saved copies of a 3 MB page, then the floor reading the same files. Politeness is off
in both (no delay, no AutoThrottle, 16 requests at once); the defaults stay polite.
For each: articles/s of ours and of the floor, their ratio, CPU per article above the
floor, peak RSS of the process tree, and the per-stage CPU of one article next to bare
html2text (``benchmarks.stages``). The WeChat pair also runs at twice the pages: what the
second half cost, per page, is a page's own CPU (the crawl's start-up left out), and the
difference is the start-up's. Exits 1 when a run did not produce every article (the
figures would mean nothing).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import stages
from benchmarks.synthetic import PER_PAGE, write_wechat_pages

ROOT = Path(__file__).resolve().parents[1]
#: Politeness off, the same for ours and the floor.
SETTINGS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "0",
    "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "ALLOWED_PRIVATE_NETWORKS": '["127.0.0.0/8"]',
    "PROGRESS_INTERVAL": "0",
}


@dataclass
class Run:
    """One measured process: wall and CPU seconds (its reaped children included), peak RSS of its tree."""

    wall: float
    cpu: float
    peak_rss: int  #: bytes, the largest sum over the process and its descendants seen at once
    returncode: int
    stdout: str
    own_cpu: float = 0.0  #: CPU seconds of the process itself (last sample, at most 20 ms short): no worker's


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (those still running)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return found


def _rss_and_cpu(pid: int) -> tuple[int, float]:
    """Resident bytes and CPU seconds (user + system) of one process now; zeros once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0, 0.0
    rss = int(status.split("VmRSS:")[1].split()[0]) * 1024 if "VmRSS:" in status else 0
    return rss, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(command: list[str], log: Path) -> Run:
    """Run ``command`` from the project root, its stderr to ``log``. Every 20 ms the RSS of its
    process tree is summed (peak kept) and each descendant's CPU noted: render workers are
    children of a fork server, never reaped by the crawl, so its own usage leaves them out."""
    with log.open("w") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True)
        peak = 0
        descendants_cpu: dict[int, float] = {}
        own_cpu = 0.0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak, own_cpu
            while not done.wait(0.02):
                total = 0
                for pid in _tree(proc.pid):
                    rss, cpu = _rss_and_cpu(pid)
                    total += rss
                    if pid != proc.pid and cpu:
                        descendants_cpu[pid] = cpu
                    elif pid == proc.pid and cpu:
                        own_cpu = cpu
                peak = max(peak, total)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        stdout = proc.stdout.read() if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime + sum(descendants_cpu.values())
    return Run(wall, cpu, peak, proc.returncode, stdout, own_cpu)


def _scrapy(spider: str, output: Path, *args: str) -> list[str]:
    command = [sys.executable, "-m", "scrapy", "crawl", spider, "-s", f"OUTPUT_DIR={output}"]
    for name, value in SETTINGS.items():
        command += ["-s", f"{name}={value}"]
    for arg in args:
        command += ["-a", arg]
    return command


def _floor(kind: str, *args: str) -> list[str]:
    command = [sys.executable, "-m", "benchmarks.floor", kind, *args]
    for name, value in SETTINGS.items():
        command += ["-s", f"{name}={value}"]
    return command


def _written(output: Path) -> int:
    return sum(1 for _ in output.rglob("*.md"))


def _answers(run: Run) -> int:
    lines = [line for line in run.stdout.splitlines() if line.startswith("ANSWERS ")]
    return int(lines[-1].split()[1]) if lines else -1


@dataclass
class Result:
    name: str
    articles: int
    ours: Run
    floor: Run
    stages: dict[str, float]
    #: ours and the floor again at twice the articles (``twice``), or None
    doubled: tuple[Run, Run] | None = None

    def _marginal(self, ours: Run, floor: Run) -> list[str]:
        """Per article from the runs of N and 2N articles: the CPU the second N added (a page's own
        cost), and what is left over (start-up and end of run, whatever the number of articles)."""
        n = self.articles
        page = ((ours.cpu - self.ours.cpu) / n * 1000, (floor.cpu - self.floor.cpu) / n * 1000)
        start = (self.ours.cpu - page[0] * n / 1000, self.floor.cpu - page[1] * n / 1000)
        return [
            f"  runs of {n} and {2 * n}: CPU per article of the second {n}: ours {page[0]:.1f} ms, floor {page[1]:.1f} ms, "
            f"above the floor {page[0] - page[1]:.1f} ms",
            f"  the rest (start-up, end of run): ours {start[0]:.2f} s, floor {start[1]:.2f} s "
            f"(2N run: ours {ours.wall:.2f} s wall, {ours.cpu:.2f} s CPU; floor {floor.wall:.2f} s, {floor.cpu:.2f} s)",
        ]

    def rows(self) -> list[str]:
        mib = 1024 * 1024
        out = [f"{self.name}: {self.articles} articles"]
        out.append(f"  {'run':<6} {'wall s':>8} {'articles/s':>11} {'CPU s':>8} {'peak RSS MiB':>13}")
        for label, run in (("ours", self.ours), ("floor", self.floor)):
            out.append(f"  {label:<6} {run.wall:8.2f} {self.articles / run.wall:11.1f} {run.cpu:8.2f} {run.peak_rss / mib:13.1f}")
        ratio = self.floor.wall / self.ours.wall
        above = (self.ours.cpu - self.floor.cpu) / self.articles * 1000
        out.append(f"  ratio (ours/floor articles/s): {ratio:.2f}   CPU per article above the floor: {above:.1f} ms")
        own = (self.ours.own_cpu / self.articles * 1000, self.floor.own_cpu / self.articles * 1000)
        out.append(f"  crawl process alone (no workers), CPU per article: ours {own[0]:.1f} ms, floor {own[1]:.1f} ms")
        if self.doubled is not None:
            out += self._marginal(*self.doubled)
        out.append("  one article, CPU ms (median): " + ", ".join(f"{name} {ms:.1f}" for name, ms in self.stages.items()))
        cc = self.stages["clean"] + self.stages["convert"]
        out.append(f"  clean + convert / bare html2text: {cc / self.stages['bare html2text']:.2f}")
        return out


def bench_wallstreetcn(articles: int, folder: Path, repeat: int) -> Result:
    pages = max(1, -(-articles // PER_PAGE))
    articles = pages * PER_PAGE
    server = subprocess.Popen([sys.executable, "-m", "benchmarks.server", str(articles)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        ready = server.stdout.readline().split() if server.stdout else []
        if ready[:1] != ["READY"]:
            raise SystemExit("benchmarks: the synthetic API did not start")
        api = ready[1]
        output = folder / "wallstreetcn"
        ours = measure(_scrapy("wallstreetcn", output, f"pages={pages}", "refresh=1") + ["-s", f"WALLSTREETCN_API_BASE={api}"],
                       folder / "wallstreetcn.log")
        floor = measure(_floor("wallstreetcn", api, str(pages)), folder / "wallstreetcn-floor.log")
    finally:
        server.terminate()
        server.wait()
    _check("wallstreetcn", articles, _written(output), _answers(floor), folder / "wallstreetcn.log")
    return Result("wallstreetcn crawl", articles, ours, floor, stages.wallstreetcn_stages(repeat))


def bench_wechat(count: int, folder: Path, repeat: int) -> Result:
    runs = []
    for pages in (count, 2 * count):
        listing = write_wechat_pages(folder / f"saved-{pages}", pages)
        output = folder / f"backfill-{pages}"
        log = folder / f"backfill-{pages}.log"
        ours = measure(_scrapy("backfill", output, f"urls_file={listing}"), log)
        floor = measure(_floor("backfill", str(listing)), folder / f"backfill-floor-{pages}.log")
        _check("backfill", pages, _written(output), _answers(floor), log)
        runs.append((ours, floor))
    (ours, floor), doubled = runs
    return Result("backfill of saved 3 MB WeChat pages", count, ours, floor, stages.wechat_stages(repeat), doubled)


def _check(name: str, expected: int, written: int, answers: int, log: Path) -> None:
    if written != expected or answers != expected:
        sys.exit(f"benchmarks: {name}: expected {expected} articles, ours wrote {written}, the floor got "
                 f"{answers} answers (log: {log})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1200, help="wallstreetcn articles (whole listing pages of 30)")
    parser.add_argument("--wechat-pages", type=int, default=20, help="saved WeChat pages to backfill")
    parser.add_argument("--only", choices=("wallstreetcn", "wechat"), help="run one benchmark")
    parser.add_argument("--repeat", type=int, default=5, help="calls per stage for the per-stage CPU figures")
    args = parser.parse_args(argv)
    print(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        folder = Path(tmp)
        if args.only in (None, "wallstreetcn"):
            print("\n".join(bench_wallstreetcn(args.articles, folder, args.repeat).rows()), flush=True)
        if args.only in (None, "wechat"):
            print("\n".join(bench_wechat(args.wechat_pages, folder, args.repeat).rows()), flush=True)


if __name__ == "__main__":
    main()
