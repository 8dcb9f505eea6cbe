"""Rendering in worker processes, so conversion uses the machine's other cores.

Rendering is pure CPU work in Python: a thread cannot run it beside the crawl (the GIL),
it only slows the crawl's own parsing. A pool of processes started by a fork server
(``pipelines.render`` preloaded, so a worker starts in milliseconds and shares nothing
with the crawl's threads) renders each article with the same ``render(article, config)``
and sends the document back; writing stays in the crawl process, atomic as ever.

The output does not depend on where an article is rendered: ``render`` is a function of
the article and the config only. The one piece of process state it reads, the secret that
signs literal Markdown (``pipelines.literal``), is handed to every worker when it starts.
Workers ignore SIGINT (a Ctrl-C reaches the whole process group): the crawl decides
when to stop, finishing the articles in flight on the first signal; a worker left
behind by a killed crawl exits when its pipe to the crawl closes.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import multiprocessing
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from pipelines import literal
from pipelines.article import Article
from pipelines.render import RenderConfig, render

logger = logging.getLogger(__name__)


def _start_worker(secret: bytes) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    literal.use_secret(secret)


class RenderPool:
    """``workers`` processes rendering articles; 0 renders in the calling thread instead."""

    def __init__(self, workers: int):
        self.workers = workers
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:  # started on first use: a run with nothing to render starts no process
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["pipelines.render"])
            self._executor = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_start_worker, initargs=(literal.secret(),)
            )
        return self._executor

    async def render(self, article: Article, config: RenderConfig) -> str:
        """``render(article, config)``, in a worker; a RenderError is raised here as there."""
        if not self.workers:
            return render(article, config)
        if article.raw is not None:  # the raw source (megabytes of a WeChat page) is not sent to a worker
            article = copy.copy(article)
            article.raw = None
        try:
            return await asyncio.wrap_future(self._pool().submit(render, article, config))
        except BrokenProcessPool:  # a worker died (e.g. killed): a fresh pool, and this article once more
            logger.warning("A render worker died; starting new ones")
            self.close()
            return await asyncio.wrap_future(self._pool().submit(render, article, config))

    def close(self) -> None:
        """Stop the workers once the articles in flight are rendered."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
