"""The crawl's shared board in Redis: which run is on, who works on it, what is left, and the
stream of rendered articles and outcomes to the writer.

Keys, under ``REDIS_KEY_PREFIX`` (``P``):

=======================  ===============================================================================
``P:run``                the run's id, set by the writer when it starts; workers wait for it
``P:began``              when the first writer of the run opened it (UTC, ISO 8601)
``P:writer``             held by the live writer (expires ``REDIS_WORKER_TIMEOUT`` after its last beat)
``P:started``            set by the first worker: a crawl is done only once work began
``P:spiders``            the spiders taking part
``P:workers``            zset worker → deadline of its heartbeat (Redis clock): past it, it is dead
``P:busy``               workers still reading their start (the listing, a URL list)
``P:<spider>:requests``  scrapy-redis' request queue (zset by priority)
``P:<spider>:dupefilter`` request fingerprints seen this run
``P:<spider>:inflight``  ``<worker>:<n>`` → a request that worker took and has not finished
``P:<spider>:urls``      URL list lines ``scrapy enqueue`` pushed, taken one at a time by workers
``P:<spider>:claim``     the worker that reads the spider's own start (listing, given list) this run
``P:<spider>:listed``    articles (or URLs) named by a line of a list so far: a repeated one is fetched once
``P:state``              identity → the writer's record of a stored article (workers' ``stored`` skips)
``P:marks``              source → its listing mark, as the writer's state holds it (bounds workers' listings)
``P:listed``             zset source → the newest publication time any worker listed this run
``P:requested``          article URL → ``[source, publication time]`` of each article requested off a listing
``P:pages``              listing pages workers read this run (the report's "listing page(s) read")
``P:report``             the crawl's outcomes as the writer recorded them, in order (``crawler.distributed.ledger``)
``P:report:seen``        identities of those outcomes: one recorded again (after a writer's restart) is kept once
``P:stream``             articles and outcomes for the writer (consumer group ``writer``)
=======================  ===============================================================================

A request is taken from the queue into ``inflight`` atomically and leaves it only once Scrapy is
done with it (its callback ran, its items were handed to the stream, the requests it made were
queued): a worker killed with SIGKILL leaves its requests in ``inflight``, and once its heartbeat
lapses any live process puts them back in the queue. The crawl is *done* when work began and no
queue, ``inflight`` entry, pushed URL or busy live worker is left (one atomic script).
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import redis
from scrapy.settings import BaseSettings

#: consumer group (and its one consumer) of the writer
GROUP = "writer"

#: Take the first request of the queue into inflight, atomically (a kill cannot lose it in between).
POP = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return nil end
redis.call('ZREM', KEYS[1], r[1])
redis.call('HSET', KEYS[2], ARGV[1], r[2] .. ' ' .. r[1])
return r[1]
"""

#: 1 when the crawl under prefix ARGV[1] is done: started, nothing queued, taken, pushed, or being started.
DONE = """
local p = ARGV[1]
if redis.call('EXISTS', p .. ':started') == 0 then return 0 end
for _, s in ipairs(redis.call('SMEMBERS', p .. ':spiders')) do
  if redis.call('ZCARD', p .. ':' .. s .. ':requests') > 0 then return 0 end
  if redis.call('HLEN', p .. ':' .. s .. ':inflight') > 0 then return 0 end
  if redis.call('LLEN', p .. ':' .. s .. ':urls') > 0 then return 0 end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
for _, w in ipairs(redis.call('SMEMBERS', p .. ':busy')) do
  local deadline = redis.call('ZSCORE', p .. ':workers', w)
  if deadline and tonumber(deadline) > now then return 0 end
end
return 1
"""


#: Append an outcome to the ledger unless one of the same identity is there already.
NOTE = """
if redis.call('HSETNX', KEYS[1], ARGV[1], '1') == 1 then
  redis.call('RPUSH', KEYS[2], ARGV[2])
  return 1
end
return 0
"""


def connect(settings: BaseSettings) -> redis.Redis:
    return redis.Redis.from_url(settings.get("REDIS_URL"), socket_timeout=30, socket_connect_timeout=10)


class Board:
    """One process's handle on the crawl's keys (``P`` = ``REDIS_KEY_PREFIX``)."""

    def __init__(self, server: redis.Redis, prefix: str, timeout: float):
        self.server = server
        self.prefix = prefix
        self.timeout = timeout  #: seconds a heartbeat holds
        self.me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._pop = server.register_script(POP)
        self._done = server.register_script(DONE)
        self._note = server.register_script(NOTE)

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Board:
        return cls(connect(settings), settings.get("REDIS_KEY_PREFIX"), settings.getfloat("REDIS_WORKER_TIMEOUT"))

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def now(self) -> float:
        seconds, micros = self.server.time()
        return seconds + micros / 1_000_000

    # --- the run ---------------------------------------------------------------------------------

    def run_id(self) -> str | None:
        value = self.server.get(self.key("run"))
        return value.decode() if value else None

    def began(self) -> str:
        value = self.server.get(self.key("began"))
        return value.decode() if value else ""

    def writer_alive(self) -> bool:
        return bool(self.server.exists(self.key("writer")))

    def writer_beat(self) -> bool:
        """Hold (or keep holding) the writer's key; False when another live writer holds it."""
        key = self.key("writer")
        if self.server.set(key, self.me, nx=True, px=int(self.timeout * 1000)):
            return True
        if self.server.get(key) == self.me.encode():
            self.server.pexpire(key, int(self.timeout * 1000))
            return True
        return False

    def open_run(self, stored: Iterable[tuple[str, dict[str, Any]]], marks: dict[str, int], now: str) -> tuple[str, bool]:
        """The writer's start: publish what the state holds (identity → record, source → listing
        mark), then the run's id (a run a killed writer left is resumed). Returns the id and
        whether it was resumed."""
        pipe = self.server.pipeline(transaction=False)
        pipe.delete(self.key("marks"))
        if marks:
            pipe.hset(self.key("marks"), mapping=marks)
        count = 0
        for identity, record in stored:
            pipe.hset(self.key("state"), identity, json.dumps(record))
            count += 1
            if count % 1000 == 0:
                pipe.execute()
        pipe.execute()
        try:
            self.server.xgroup_create(self.key("stream"), GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:  # BUSYGROUP: a killed writer's group, with its pending entries
            if "BUSYGROUP" not in str(exc):
                raise
        run = uuid.uuid4().hex[:12]
        self.server.set(self.key("began"), now, nx=True)
        resumed = not self.server.set(self.key("run"), run, nx=True)
        return (self.run_id() or run), resumed

    def finish_run(self) -> None:
        """The writer's end: the crawl's keys go, so the next run starts afresh."""
        spiders = [s.decode() for s in self.server.smembers(self.key("spiders"))]
        keys = [self.key(name) for name in ("run", "began", "started", "spiders", "workers", "busy", "state", "stream", "marks",
                                            "listed", "requested", "pages", "report", "report:seen")]
        for spider in spiders:
            keys += [self.key(spider, name) for name in ("requests", "dupefilter", "inflight", "urls", "claim", "listed")]
        self.server.delete(*keys)
        self.server.delete(self.key("writer"))

    # --- workers ---------------------------------------------------------------------------------

    def join(self, spider: str) -> None:
        pipe = self.server.pipeline()
        pipe.sadd(self.key("spiders"), spider)
        pipe.set(self.key("started"), "1")
        pipe.execute()
        self.beat()

    def beat(self) -> None:
        self.server.zadd(self.key("workers"), {self.me: self.now() + self.timeout})

    def leave(self) -> None:
        pipe = self.server.pipeline()
        pipe.zrem(self.key("workers"), self.me)
        pipe.srem(self.key("busy"), self.me)
        pipe.execute()

    def set_busy(self, busy: bool) -> None:
        (self.server.sadd if busy else self.server.srem)(self.key("busy"), self.me)

    def claim(self, spider: str) -> bool:
        """Whether this worker reads the spider's own start this run (the first to ask does)."""
        return bool(self.server.set(self.key(spider, "claim"), self.me, nx=True))

    def done(self) -> bool:
        return bool(self._done(args=[self.prefix]))

    # --- requests --------------------------------------------------------------------------------

    def take(self, queue_key: str, inflight_key: str, field: str) -> bytes | None:
        return self._pop(keys=[queue_key, inflight_key], args=[field])

    def release(self, inflight_key: str, fields: list[str]) -> None:
        if fields:
            self.server.hdel(inflight_key, *fields)

    def requeue(self, spider: str, only_mine: bool = False) -> int:
        """Put back in the queue the requests taken by dead workers (or, when closing, by this one)."""
        inflight = self.key(spider, "inflight")
        taken = self.server.hgetall(inflight)
        if not taken:
            return 0
        now = self.now()
        deadlines = dict(self.server.zrange(self.key("workers"), 0, -1, withscores=True))
        back = 0
        for field, value in taken.items():
            owner = field.decode().rsplit(":", 1)[0]
            if only_mine:
                if owner != self.me:
                    continue
            elif deadlines.get(owner.encode(), 0) > now:
                continue
            score, data = value.split(b" ", 1)
            pipe = self.server.pipeline()
            pipe.zadd(self.key(spider, "requests"), {data: float(score)})
            pipe.hdel(inflight, field)
            pipe.execute()
            back += 1
        return back

    def spiders(self) -> list[str]:
        return [s.decode() for s in self.server.smembers(self.key("spiders"))]

    # --- URL lists -------------------------------------------------------------------------------

    def push_urls(self, spider: str, lines: Iterable[str]) -> int:
        count = 0
        batch: list[str] = []
        for line in lines:
            batch.append(line)
            if len(batch) == 500:
                count += self._push(spider, batch)
                batch = []
        return count + self._push(spider, batch)

    def _push(self, spider: str, batch: list[str]) -> int:
        if batch:
            self.server.rpush(self.key(spider, "urls"), *batch)
        return len(batch)

    def first_listed(self, spider: str, key: str) -> bool:
        """Whether no worker's earlier list line named ``key`` this run (``P:<spider>:listed``)."""
        return bool(self.server.sadd(self.key(spider, "listed"), key))

    def next_url(self, spider: str) -> str | None:
        line = self.server.lpop(self.key(spider, "urls"))
        return line.decode() if line is not None else None

    def queue_lengths(self) -> dict[str, int]:
        """What is left per spider (for the writer's progress lines and operators)."""
        lengths = {}
        for spider in self.spiders():
            lengths[f"{spider}:requests"] = self.server.zcard(self.key(spider, "requests"))
            lengths[f"{spider}:inflight"] = self.server.hlen(self.key(spider, "inflight"))
            lengths[f"{spider}:urls"] = self.server.llen(self.key(spider, "urls"))
        lengths["stream"] = self.server.xlen(self.key("stream"))
        return lengths

    # --- the stored articles (the writer's state, published) -------------------------------------

    def stored(self, identities: list[str]) -> list[dict[str, Any] | None]:
        values = self.server.hmget(self.key("state"), identities) if identities else []
        return [json.loads(v) if v else None for v in values]

    def publish_stored(self, identities: Iterable[str], record: dict[str, Any]) -> None:
        value = json.dumps(record)
        self.server.hset(self.key("state"), mapping=dict.fromkeys(identities, value))

    # --- the listing mark ------------------------------------------------------------------------

    def mark(self, source: str) -> int | None:
        value = self.server.hget(self.key("marks"), source)
        return int(value) if value is not None else None

    def note_listed(self, source: str, newest: int, requested: dict[str, int]) -> None:
        """What one listing page held: its newest publication time, and the articles requested off it."""
        pipe = self.server.pipeline()
        pipe.zadd(self.key("listed"), {source: newest}, gt=True)
        pipe.incr(self.key("pages"))
        if requested:
            pipe.hset(self.key("requested"), mapping={url: json.dumps([source, shown]) for url, shown in requested.items()})
        pipe.execute()

    def listed(self) -> dict[str, int]:
        """Source → the newest publication time listed this run."""
        return {source.decode(): int(newest) for source, newest in self.server.zrange(self.key("listed"), 0, -1, withscores=True)}

    def pages_read(self) -> int:
        """Listing pages the crawl's workers read (a page read again after a worker's kill counts twice)."""
        return int(self.server.get(self.key("pages")) or 0)

    def requested(self, urls: list[str]) -> list[tuple[str, int] | None]:
        """(source, publication time) of each of ``urls`` requested off a listing, else None."""
        values = self.server.hmget(self.key("requested"), urls) if urls else []
        return [tuple(json.loads(v)) if v else None for v in values]  # type: ignore[misc]

    # --- the crawl's report ----------------------------------------------------------------------

    def note_outcome(self, identity: str, entry: dict[str, Any]) -> bool:
        """Add an outcome to the crawl's ledger, unless one of the same identity is there."""
        return bool(self._note(keys=[self.key("report:seen"), self.key("report")], args=[identity, json.dumps(entry)]))

    def outcomes(self) -> list[dict[str, Any]]:
        return [json.loads(v) for v in self.server.lrange(self.key("report"), 0, -1)]

    # --- the stream to the writer ----------------------------------------------------------------

    def send(self, kind: str, payload: bytes | dict[str, Any]) -> None:
        """An entry for the writer: an article already encoded (``crawler.distributed.codec``) or an
        outcome's fields (JSON). Never pickle: the writer must not run what an entry holds."""
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.server.xadd(self.key("stream"), {"kind": kind, "data": data})

    def receive(self, count: int, after: str = ">") -> Iterator[tuple[str, bytes, bytes]]:
        """Entries for the writer: new ones (``after`` ``>``), or those delivered to it before and not
        acknowledged (a killed writer's) after the entry id ``after``. Yields (entry id, kind, data)
        as stored, undecoded: whoever can write to the Redis can write entries (the writer checks them)."""
        answer = self.server.xreadgroup(GROUP, GROUP, {self.key("stream"): after}, count=count)
        for _, entries in answer or []:
            for entry_id, fields in entries:
                if not fields:  # acknowledged by nobody but deleted: nothing to do
                    self.ack([entry_id.decode()])
                    continue
                yield entry_id.decode(), fields.get(b"kind", b""), fields.get(b"data", b"")

    def ack(self, entry_ids: list[str]) -> None:
        if entry_ids:
            pipe = self.server.pipeline()
            pipe.xack(self.key("stream"), GROUP, *entry_ids)
            pipe.xdel(self.key("stream"), *entry_ids)
            pipe.execute()

    def stream_empty(self) -> bool:
        return self.server.xlen(self.key("stream")) == 0
