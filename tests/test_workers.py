"""Render workers (``pipelines.workers``): the same documents as rendering in the crawl's process,
failures with their reason, literal Markdown signed by the crawl honoured, and a crawl stopped
by SIGTERM or SIGINT leaves only complete files."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.sources import SourceError, wallstreetcn
from pipelines import literal
from pipelines.article import Article
from pipelines.render import RenderConfig, RenderError, render
from pipelines.workers import WorkerPool, WorkerDied, parsed
from pipelines.write import write_atomic
from tests.conftest import ROOT, WSCN, crawl_command, run_crawl, serve, wscn_routes

POSTS = "content/posts/wallstreetcn"


def recorded(name: str) -> Article:
    return wallstreetcn.article_from_detail(json.loads((WSCN / name).read_text(encoding="utf-8"))["data"])


def in_workers(articles: list[Article], config: RenderConfig) -> list[str | BaseException]:
    pool = WorkerPool(2)

    async def all_of() -> list[str | BaseException]:
        return await asyncio.gather(*(pool.render(a, config) for a in articles), return_exceptions=True)

    try:
        return asyncio.run(all_of())
    finally:
        pool.close()


def test_workers_render_byte_for_byte_what_the_crawl_process_renders() -> None:
    config = RenderConfig(disclaimers={"wallstreetcn": wallstreetcn.DISCLAIMER})
    # Hand-made: a formula handed over through the signed literal channel, as the WeChat cleaner does.
    formula = '<p>质能方程 <span {}>E=mc^2</span> 成立。</p>'.format(
        " ".join(f'{k}="{v}"' for k, v in literal.attrs(literal.math("E=mc^2", block=False)).items()))
    with_formula = Article(source="wallstreetcn", id="1", url="https://wallstreetcn.com/articles/1", title="公式",
                           published=1739161876, body_html=formula)
    articles = [recorded("article-3740710.json"), recorded("article-3782700.json"), with_formula]
    documents = in_workers(articles, config)
    assert documents == [render(a, config) for a in articles]
    assert "$E=mc^2$" in documents[2]


def test_a_render_error_in_a_worker_keeps_its_reason() -> None:
    empty = Article(source="wallstreetcn", id="2", url="https://wallstreetcn.com/articles/2", title="空",
                    published=1739161876, body_html="<p><script>x</script></p>")
    text = Article(source="wallstreetcn", id="3", url="https://wallstreetcn.com/articles/3", title="标题",
                   published=1739161876, body_html="<p>正文</p>")
    config = RenderConfig(front_matter={"title": "{title}", "lead": "\x01"})  # hand-made: a control character
    errors = in_workers([empty, text], config)
    assert all(isinstance(e, RenderError) for e in errors), errors
    assert [e.reason for e in errors] == ["render", "front-matter"]  # type: ignore[union-attr]


def test_render_workers_zero_renders_in_the_crawl_process() -> None:
    article = recorded("article-3782700.json")
    pool = WorkerPool(0)
    assert asyncio.run(pool.render(article, RenderConfig())) == render(article, RenderConfig())
    assert not pool.started


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_crawl_leaves_only_complete_files(tmp_path: Path, stop: signal.Signals) -> None:
    """Stopped while page 2's article is in flight: the run ends by itself, every file it wrote
    is complete (as a full run writes it) and no temporary file is left."""
    with serve(wscn_routes(), tmp_path, "reference") as server:
        reference = run_crawl("wallstreetcn", tmp_path / "reference", "pages=5",
                              settings={"WALLSTREETCN_API_BASE": server.url, "RETRY_TIMES": "0"})
    slow = wscn_routes()
    for route in slow["routes"]:
        if route["path"].endswith("/3740710"):
            route["delay"] = 60
    out = tmp_path / "out"
    with serve(slow, tmp_path, "slow") as server:
        command = crawl_command("wallstreetcn", out, "pages=5", settings={"WALLSTREETCN_API_BASE": server.url, "RETRY_TIMES": "0"})
        proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 120
            while "/apiv1/content/articles/3740710?extract=0" not in server.requests() or not (out / POSTS / "3782700.md").exists():
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
            proc.send_signal(stop)
            proc.send_signal(stop)  # a second signal: Scrapy stops at once, abandoning what is in flight
            _, log = proc.communicate(timeout=120)
        finally:
            proc.kill()
    assert "Traceback" not in log and "BrokenProcessPool" not in log
    files = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*.md")}
    assert files == {f"{POSTS}/3782700.md": reference.files()[f"{POSTS}/3782700.md"]}
    assert not list(out.rglob("*.tmp"))


def _dies_once(marker: str) -> int:
    """Hand-made: the first worker to run this dies, as if killed; the next one answers."""
    if not Path(marker).exists():
        Path(marker).touch()
        os._exit(9)
    return os.getpid()


def _dies(_: str) -> int:
    os._exit(9)


def test_a_call_whose_worker_died_runs_once_more_on_a_new_worker(tmp_path: Path) -> None:
    pool = WorkerPool(1)

    async def both() -> list[int | BaseException]:
        return await asyncio.gather(pool.run(_dies_once, str(tmp_path / "died")), pool.run(_dies, ""),
                                    return_exceptions=True)

    try:
        answered, died = asyncio.run(both())
    finally:
        pool.close()
    assert isinstance(answered, int) and answered != os.getpid()
    assert isinstance(died, WorkerDied) and died.reason == "worker-died"


def test_a_worker_holds_the_next_call_and_a_large_call_never_blocks_the_loop() -> None:
    """Hand-made 8 MB arguments, three calls to one worker: the crawl's end of the pipe takes what
    fits and goes on (the rest is written as the worker reads), the second call waits in the
    worker's pipe while it works on the first, the third waits here; answers come back in order."""
    pool = WorkerPool(1)
    big = b"x" * (8 << 20)

    async def three() -> list[int]:
        calls = [asyncio.ensure_future(pool.run(len, big[n:])) for n in range(3)]
        await asyncio.sleep(0)  # every call handed over as far as it goes, without waiting for the worker
        worker = pool._running[0]
        assert len(worker.calls) == 2 and worker.unsent and len(pool._waiting) == 1
        return await asyncio.gather(*calls)

    try:
        assert asyncio.run(three()) == [len(big), len(big) - 1, len(big) - 2]
    finally:
        pool.close()


def test_a_source_error_raised_in_a_worker_keeps_its_reason_and_detail() -> None:
    pool = WorkerPool(1)
    try:
        with pytest.raises(SourceError) as error:
            asyncio.run(pool.run(wallstreetcn.parse_answer, b'{"code": 20000, "data": {"id": 7}}', "7"))
    finally:
        pool.close()
    assert (error.value.reason, error.value.detail) == ("missing-title", "article 7 has no title")


def test_workers_of_a_console_script_do_not_import_scrapy(tmp_path: Path) -> None:
    """Started from a script (as ``.venv/bin/scrapy`` is), a worker does not run the script again:
    that would import all of Scrapy in every worker."""
    script = tmp_path / "script.py"
    script.write_text(
        "import asyncio, sys\n"
        "import scrapy\n"
        "from pipelines.workers import WorkerPool\n"
        "from tests.test_workers import _modules\n"
        "if __name__ == '__main__':\n"
        "    pool = WorkerPool(1)\n"
        "    print(asyncio.run(pool.run(_modules)))\n"
        "    pool.close()\n",
        encoding="utf-8",
    )
    out = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False"]


def _modules() -> bool:
    return "scrapy" in sys.modules


# --- workers with threads (the file writer: ``pipelines.adapters.file_pool``) ---------------------

def _wait_for(path: str) -> int:
    """Hand-made: returns once ``path`` exists (60 s at most: a hang guard, not a timing check)."""
    deadline = time.monotonic() + 60
    while not Path(path).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(path)
        time.sleep(0.01)
    return os.getpid()


def _touch(path: str) -> int:
    Path(path).touch()
    return os.getpid()


def _dies_once_then_releases(marker: str, release: str) -> int:
    """Hand-made: the first run dies, as if killed; the next one creates ``release``."""
    if not Path(marker).exists():
        Path(marker).touch()
        os._exit(9)
    return _touch(release)


def _write_when(go: str, started: str, target: str) -> str:
    """Hand-made: say it started, wait for ``go``, then write ``target`` atomically."""
    _touch(started)
    _wait_for(go)
    write_atomic(Path(target), "complete\n")
    return target


def test_a_worker_with_threads_works_on_several_calls_at_once(tmp_path: Path) -> None:
    """The first call waits for what the second one does: one worker answers both, so it ran them at once."""
    pool = WorkerPool(1, threads=2)
    marker = tmp_path / "marker"

    async def both() -> list[int]:
        return await asyncio.gather(pool.run(_wait_for, str(marker)), pool.run(_touch, str(marker)))

    try:
        waited, touched = asyncio.run(both())
    finally:
        pool.close()
    assert waited == touched != os.getpid()


def test_calls_under_way_in_a_worker_with_threads_that_died_run_once_more(tmp_path: Path) -> None:
    """Both calls were under way when the worker died: both run again on a new worker (the first could
    not finish before: what it waits for is made only by the second call's second run)."""
    pool = WorkerPool(1, threads=2)
    release = tmp_path / "release"

    async def both() -> list[int]:
        return await asyncio.gather(pool.run(_wait_for, str(release)),
                                    pool.run(_dies_once_then_releases, str(tmp_path / "died"), str(release)))

    try:
        waited, released = asyncio.run(both())
    finally:
        pool.close()
    assert waited == released != os.getpid()


def test_sigterm_lets_a_worker_with_threads_finish_the_file_it_writes(tmp_path: Path) -> None:
    """SIGTERM (what ``multiprocessing`` sends its daemons when the crawl's process exits) while a
    write is under way: the write is done whole, answered, and the worker exits cleanly."""
    pool = WorkerPool(1, threads=2)
    go, started, target = tmp_path / "go", tmp_path / "started", tmp_path / "out" / "file.md"

    async def stopped_midway() -> tuple[str, int]:
        call = asyncio.ensure_future(pool.run(_write_when, str(go), str(started), str(target)))
        await asyncio.to_thread(_wait_for, str(started))
        worker = pool._running[0]
        os.kill(worker.process.pid, signal.SIGTERM)
        await asyncio.sleep(0.2)  # the signal lands while the call waits (were it later, the test would pass too)
        go.touch()
        written = await call
        # The pool joins the worker once its end of the pipe closes: joining it here too, from another
        # thread, would race that join (both read the fork server's one report of the exit code).
        deadline = time.monotonic() + 60
        while worker in pool._running and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return written, worker.process.exitcode

    try:
        written, exitcode = asyncio.run(stopped_midway())
    finally:
        pool.close()
    assert written == str(target) and target.read_text() == "complete\n" and exitcode == 0
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]


def test_parsed_and_rendered_in_one_call_is_what_the_render_stage_renders() -> None:
    body = (WSCN / "article-3782700.json").read_bytes()
    config = RenderConfig(disclaimers={"wallstreetcn": wallstreetcn.DISCLAIMER})
    article = parsed(wallstreetcn.parse_answer, (body, "3782700"), config)
    plain = wallstreetcn.parse_answer(body, "3782700")
    assert article.document and article.document == render(plain, config)
    assert parsed(wallstreetcn.parse_answer, (body, "3782700"), None).document == ""


def test_a_render_that_fails_in_the_parse_call_is_left_to_the_render_stage() -> None:
    body = (WSCN / "article-3782700.json").read_bytes()
    config = RenderConfig(front_matter={"title": "{title}", "lead": "\x01"})  # hand-made: a control character
    article = parsed(wallstreetcn.parse_answer, (body, "3782700"), config)
    assert article.document == "" and article.title
    with pytest.raises(RenderError):
        render(article, config)
