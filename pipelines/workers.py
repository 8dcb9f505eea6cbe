"""CPU work in worker processes, so parsing and conversion use the machine's other cores.

Parsing an answer and rendering an article are pure CPU work in Python: a thread cannot
run it beside the crawl (the GIL), it only slows the crawl's own work. A few processes
started by a fork server (``pipelines.render`` preloaded, so a worker starts in
milliseconds and shares nothing with the crawl's threads) run those functions and send
the result back; writing stays in the crawl process, atomic as ever.

The pool has no thread of its own in the crawl's process: each worker is one pipe, watched
by the crawl's event loop, and holds up to ``CALLS_PER_WORKER`` calls: the next call waits in
its pipe while it works, so a worker does not idle while the crawl's thread is busy elsewhere
before it hands over more. The crawl's end of a pipe never blocks: a call (a WeChat page is
megabytes) is written as far as the pipe takes it and the rest when the loop says it is
writable; answers are read as they come. Calls and answers travel as ``pipelines.wire``
messages (a pickle, with a page's megabytes beside it rather than copied into it). (``ProcessPoolExecutor``'s feeder and manager threads
fought the reactor's thread for the GIL: every hand-over stalled the crawl for up to a switch
interval; a blocking write to a busy worker's full pipe stalled it as long.)

The output does not depend on where an article is rendered: ``render`` is a function of
the article and the config only. The one piece of process state it reads, the secret that
signs literal Markdown (``pipelines.literal``), is handed to every worker when it starts.
Workers ignore SIGINT (a Ctrl-C reaches the whole process group): the crawl decides
when to stop, finishing the articles in flight on the first signal; a worker left
behind by a killed crawl exits when its pipe to the crawl closes.

A pool with ``threads`` > 1 runs that many calls at once in each worker, in threads: for calls
that mostly wait (a file's fsync waits on the disk for milliseconds; several at once share the
journal's commits). Answers then come back in the order calls finish, each tagged with its call's
number. Such a worker ends on SIGTERM (as ``multiprocessing`` sends its daemons when the crawl's
process exits) or the end of its pipe only once the calls under way are done: a file it writes
is never cut short.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from pipelines import literal, wire
from pipelines.article import Article
from pipelines.render import RenderConfig, RenderError, render

logger = logging.getLogger(__name__)
T = TypeVar("T")
#: calls a worker holds at once: the one it works on and the next, waiting in its pipe
CALLS_PER_WORKER = 2
#: a call: (function, args, future, tries)
Call = tuple[Callable[..., Any], tuple[Any, ...], "asyncio.Future[Any]", int]


class WorkerDied(RenderError):
    """A worker died twice while working on the same call (e.g. killed for its memory)."""

    def __init__(self, detail: str, reason: str = "worker-died"):
        super().__init__(detail, reason)


def _answer(number: int, function: Callable[..., Any], args: tuple[Any, ...]) -> list[bytes]:
    """The answer to one call as a message (``wire``): its number, and its result or the exception it raised."""
    try:
        answer: tuple[int, bool, Any] = (number, True, function(*args))
    except Exception as exc:  # raised in the crawl's process as here
        answer = (number, False, exc)
    try:
        return wire.dumps(answer)
    except Exception as exc:  # an exception that cannot travel: its text does
        return wire.dumps((number, False, RuntimeError(f"{type(answer[2]).__name__}: {answer[2]} ({exc})")))


def _send(sock: socket.socket, message: list[bytes]) -> None:
    for piece in message:
        sock.sendall(piece)


def _serve(sock: socket.socket, secret: bytes, threads: int = 1) -> None:
    """A worker: calls from the pipe, results (or the exception raised) back, until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    literal.use_secret(secret)
    if threads > 1:
        _serve_threads(sock, threads)
        return
    while True:
        try:
            number, function, args = wire.receive(sock)
        except (EOFError, OSError):
            return
        try:
            _send(sock, _answer(number, function, args))
        except OSError:
            return


class _Stop(Exception):
    """SIGTERM in a worker with threads: take no more calls, finish those under way."""


def _stop(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise _Stop


def _serve_threads(sock: socket.socket, threads: int) -> None:
    """``_serve`` running up to ``threads`` calls at once, each answered when it is done."""
    sending = threading.Lock()

    def run(number: int, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
        message = _answer(number, function, args)
        with sending:
            try:
                _send(sock, message)
            except OSError:
                pass  # the crawl is gone: the call was still done whole

    signal.signal(signal.SIGTERM, _stop)
    executor = ThreadPoolExecutor(threads)
    try:
        while True:
            try:
                number, function, args = wire.receive(sock)
            except (EOFError, OSError):
                return
            executor.submit(run, number, function, args)
    except _Stop:
        return
    finally:
        executor.shutdown(wait=True, cancel_futures=True)  # calls under way finish; those not started are dropped


def parsed(parse: Callable[..., Article], args: tuple[Any, ...], config: RenderConfig | None) -> Article:
    """``parse(*args)``, rendered with ``config`` when one is given, in one call to a worker: the
    article does not travel to a worker a second time, and its document comes back with it. A
    render that fails leaves ``document`` empty: the render stage renders it again in its place
    (after the dedupe stage) and records why, as for any article."""
    article = parse(*args)
    if config is not None:
        try:
            article.document = render(article, config)
        except Exception:  # noqa: BLE001 - raised again, and recorded, by the render stage
            article.document = ""
    return article


@contextmanager
def _main_not_inherited() -> Iterator[None]:
    """Start processes without the main script: a worker runs only this project's functions, and
    re-running a console script (``.venv/bin/scrapy``) in each would import all of Scrapy there.
    ``multiprocessing`` re-imports the main module from its ``__file__`` unless it was run with ``-m``."""
    main = sys.modules["__main__"]
    script = main.__dict__.pop("__file__", None) if getattr(main, "__spec__", None) is None else None
    try:
        yield
    finally:
        if script is not None:
            main.__file__ = script


class _Worker:
    def __init__(self, context: multiprocessing.context.ForkServerContext, secret: bytes, threads: int):
        self.sock, theirs = socket.socketpair()
        self.process: BaseProcess = context.Process(target=_serve, args=(theirs, secret, threads), daemon=True)
        with _main_not_inherited():
            self.process.start()
        theirs.close()
        self.fd = self.sock.fileno()
        self.sock.setblocking(False)
        #: calls sent (or being sent) and not answered, by number, oldest first: the first (``threads``)
        #: are the ones worked on
        self.calls: dict[int, Call] = {}
        self.unsent: deque[memoryview] = deque()  #: bytes of calls the pipe did not take yet
        self.answers = wire.Reader()  #: bytes of answers not complete yet

    @property
    def closed(self) -> bool:
        return self.sock.fileno() == -1

    def stop(self) -> None:
        self.sock.close()  # the worker ends at the end of its pipe
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class WorkerPool:
    """``workers`` processes running parse and render calls (``threads`` at once in each); 0 runs
    them in the calling thread instead."""

    def __init__(self, workers: int, threads: int = 1):
        self.workers = workers
        self.threads = max(1, threads)
        #: calls a worker holds at once: those it works on and as many waiting in its pipe
        self.calls_per_worker = CALLS_PER_WORKER * self.threads
        self._numbers = itertools.count()
        self._context: multiprocessing.context.ForkServerContext | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running: list[_Worker] = []
        self._waiting: deque[Call] = deque()

    @property
    def started(self) -> bool:
        """Whether any worker process is running (started on first use: a run with nothing to do starts none)."""
        return bool(self._running)

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` in a worker (``function`` importable by name, the arguments picklable);
        an exception it raises is raised here."""
        if not self.workers:
            return function(*args)
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (a test's asyncio.run): workers bound to the old one go
            self.close()
            self._loop = loop
        future: asyncio.Future[T] = loop.create_future()
        self._waiting.append((function, args, future, 0))
        self._dispatch()
        return await future

    async def render(self, article: Article, config: RenderConfig) -> str:
        """``render(article, config)``, in a worker; a RenderError is raised here as there."""
        if article.raw is not None and self.workers:  # the raw source (megabytes of a WeChat page) stays here
            article = copy.copy(article)
            article.raw = None
        return await self.run(render, article, config)

    def _free(self) -> _Worker | None:
        """The worker to hand the next call: one with a thread idle, else a new one while there are
        fewer than ``workers``, else the least busy one with room in its pipe; None when all are full."""
        least = min(self._running, key=lambda w: len(w.calls), default=None)
        if least is not None and len(least.calls) < self.threads:
            return least
        if len(self._running) < self.workers:
            return self._add_worker()
        return least if least is not None and len(least.calls) < self.calls_per_worker else None

    def _dispatch(self) -> None:
        while self._waiting:
            worker = self._free()
            if worker is None:
                return
            call = self._waiting.popleft()
            if call[2].cancelled():
                continue
            number = next(self._numbers)
            try:
                message = wire.dumps((number, call[0], call[1]))
            except Exception as exc:  # the call's arguments cannot travel
                call[2].set_exception(exc)
                continue
            worker.calls[number] = call
            worker.unsent.extend(map(memoryview, message))
            if not self._send(worker):
                self._died(worker)

    def _send(self, worker: _Worker) -> bool:
        """Write what the worker's pipe takes of its unsent calls; watch the pipe for the rest.
        False when the pipe is broken (the worker died)."""
        try:
            while worker.unsent:
                sent = os.write(worker.fd, worker.unsent[0])
                if sent < len(worker.unsent[0]):
                    worker.unsent[0] = worker.unsent[0][sent:]
                    break
                worker.unsent.popleft()
        except BlockingIOError:
            pass
        except OSError:
            return False
        assert self._loop is not None
        if worker.unsent:
            self._loop.add_writer(worker.fd, self._writable, worker)
        else:
            self._loop.remove_writer(worker.fd)
        return True

    def _writable(self, worker: _Worker) -> None:
        if not self._send(worker):
            self._died(worker)
            self._dispatch()

    def _add_worker(self) -> _Worker:
        if self._context is None:
            self._context = multiprocessing.get_context("forkserver")
            self._context.set_forkserver_preload(["pipelines.render"])
        worker = _Worker(self._context, literal.secret(), self.threads)
        assert self._loop is not None
        self._loop.add_reader(worker.fd, self._answered, worker)
        self._running.append(worker)
        return worker

    def _answered(self, worker: _Worker) -> None:
        """The worker's pipe is readable: its answers, or its end."""
        ended = False
        try:
            while chunk := os.read(worker.fd, 1 << 20):
                worker.answers.feed(chunk)
            ended = True  # read nothing: the worker's end is closed
        except BlockingIOError:
            pass
        except OSError:
            ended = True
        for number, ok, value in worker.answers.messages():
            call = worker.calls.pop(number)
            if not call[2].cancelled():
                (call[2].set_result if ok else call[2].set_exception)(value)
        if ended:
            self._died(worker)
        self._dispatch()

    def _died(self, worker: _Worker) -> None:
        """A worker died (e.g. killed): the calls it worked on go to a new one, once each; the calls
        waiting behind them in its pipe go back to the queue as they were."""
        self._forget(worker)
        worker.sock.close()
        worker.process.join(timeout=10)
        calls, worker.calls = list(worker.calls.values()), {}
        worked, waiting = calls[: self.threads], calls[self.threads :]
        again = []
        for function, args, future, tries in worked:
            if future.cancelled():
                continue
            if tries:
                future.set_exception(WorkerDied(f"a worker died twice on it (exit code {worker.process.exitcode})"))
            else:
                again.append((function, args, future, tries + 1))
        if again:
            logger.warning("A worker died (exit code %s); starting a new one", worker.process.exitcode)
        self._waiting.extendleft(reversed(again + waiting))

    def _forget(self, worker: _Worker) -> None:
        if self._loop is not None and not self._loop.is_closed() and not worker.closed:
            self._loop.remove_reader(worker.fd)
            self._loop.remove_writer(worker.fd)
        self._running.remove(worker)

    def close(self) -> None:
        """Stop the workers; calls still waiting or in flight are cancelled (a crawl closes the pool
        only once its items are done, or when it abandons them on a second signal)."""
        for worker in list(self._running):
            self._forget(worker)
            for call in worker.calls.values():
                call[2].cancel()
            worker.calls.clear()
            worker.stop()
        while self._waiting:
            self._waiting.popleft()[2].cancel()
