"""What has been written before: one SQLite file shared by every run and source.

An article is recorded only after its file is safely on disk, so a run killed
at any moment never records a file that does not exist; the next run simply
finds it missing and writes it. Aliases tie one article's other identities to
it (a wallstreetcn republish of a WeChat article), so it is written once.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    key           TEXT PRIMARY KEY,  -- "<source>:<id>"
    source        TEXT NOT NULL,
    id            TEXT NOT NULL,
    url           TEXT NOT NULL,     -- canonical URL
    content_hash  TEXT NOT NULL,     -- sha256 of the document as first rendered (without lastmod)
    path          TEXT NOT NULL,     -- relative to the output root
    first_written TEXT NOT NULL,     -- UTC, ISO 8601
    last_changed  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS aliases (
    alias TEXT PRIMARY KEY,          -- another identity of the same article, e.g. "wechat:<id>"
    key   TEXT NOT NULL REFERENCES articles(key)
);
CREATE INDEX IF NOT EXISTS articles_source ON articles(source);
CREATE INDEX IF NOT EXISTS articles_source_id ON articles(source, id);  -- ``records`` pages along it
CREATE TABLE IF NOT EXISTS listing_marks (
    source    TEXT PRIMARY KEY,
    newest    INTEGER NOT NULL,      -- publication time (unix s) of the newest item a completed run listed
    completed TEXT NOT NULL          -- when that run finished (UTC, ISO 8601)
);
CREATE TABLE IF NOT EXISTS images (
    key    TEXT NOT NULL,            -- the article's key
    url    TEXT NOT NULL,            -- the image URL as the body names it after IMAGE_URL_REWRITES
    file   TEXT NOT NULL,            -- its file in the article's page bundle ("" when it failed)
    reason TEXT NOT NULL,            -- why it failed ("" when it is in the bundle)
    PRIMARY KEY (key, url)
);
CREATE TABLE IF NOT EXISTS refetch (
    key    TEXT PRIMARY KEY,         -- an article forgotten (``scrapy state forget``) for a scheduled run to fetch again
    source TEXT NOT NULL,
    id     TEXT NOT NULL,
    queued TEXT NOT NULL             -- when it was forgotten (UTC, ISO 8601)
);
CREATE TABLE IF NOT EXISTS unpublished (
    path   TEXT PRIMARY KEY,         -- relative to the output root (the site repo)
    marked TEXT NOT NULL             -- when it was about to be written (UTC, ISO 8601)
);
"""


def content_hash(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def timestamp(iso: str) -> int:
    """Unix seconds of a stored ``utc_now()`` value."""
    return int(datetime.fromisoformat(iso).timestamp())


@dataclass(frozen=True)
class Record:
    key: str
    source: str
    id: str
    url: str
    content_hash: str
    path: str
    first_written: str
    last_changed: str


def change_status(record: Record | None, digest: str, path: Path, document: str) -> str:
    """"new", "updated" or "unchanged": what writing ``document`` (hash ``digest``) to ``path``
    means, from what the state and the disk hold for the article."""
    if record is not None:
        if record.content_hash != digest:
            return "updated"
        return "unchanged" if path.exists() else "new"  # a lost file is written again
    if not path.exists():
        return "new"
    # On disk but not recorded: a run was killed between rename and record, or the state is fresh.
    return "unchanged" if path.read_text(encoding="utf-8") == document else "updated"


def lastmod(status: str, record: Record | None, now: str) -> int | None:
    """The article's ``lastmod`` (unix s): now for an upstream change, the recorded change
    for a lost file written again, None for an article that never changed."""
    if status == "updated":
        return timestamp(now)
    if record and record.last_changed != record.first_written:
        return timestamp(record.last_changed)
    return None


class StateStore:
    def __init__(self, path: Path | str):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None)  # autocommit; one statement per change
        self.db.execute("PRAGMA journal_mode=WAL")
        # No fsync per commit (WAL's checkpoints still sync): an article is recorded after its file is on
        # disk, and a record lost to a power cut is found again from the file (``change_status``).
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        #: the articles' highest row number when this store was opened: rows above it are newer
        self.opened_at_row: int = self.db.execute("SELECT COALESCE(MAX(rowid), 0) FROM articles").fetchone()[0]
        self._claims_made = False

    def recorded_since_opened(self, record: Record, started: str) -> bool:
        """Whether ``record`` was first recorded after this store was opened (by this run). Row numbers,
        not times: ``first_written`` counts whole seconds, and a run may start in the second the one
        before it wrote its last article (an update keeps its row, ``ON CONFLICT DO UPDATE``)."""
        row = self.db.execute("SELECT rowid FROM articles WHERE key = ?", (record.key,)).fetchone()
        return row is not None and row[0] > self.opened_at_row

    def close(self) -> None:
        self.db.close()

    def get(self, key: str) -> Record | None:
        row = self.db.execute(f"SELECT {', '.join(Record.__dataclass_fields__)} FROM articles WHERE key = ?", (key,)).fetchone()
        return Record(*row) if row else None

    def owner(self, keys: Iterable[str]) -> Record | None:
        """The stored article any of ``keys`` (its own key or an alias) belongs to."""
        for key in keys:
            record = self.get(key)
            if record:
                return record
            row = self.db.execute("SELECT key FROM aliases WHERE alias = ?", (key,)).fetchone()
            if row:
                return self.get(row[0])
        return None

    # --- identities claimed by this run's items (the dedupe stage), in a temporary table of this
    # connection: on disk past SQLite's page cache, not in a dict growing with the run, gone with it.

    def claimed_by(self, identities: Iterable[str], key: str) -> str | None:
        """The key of another item of this run that claimed one of ``identities`` (the first of them
        so claimed), or None."""
        self._claims()
        for identity in identities:
            row = self.db.execute("SELECT key FROM temp.claims WHERE identity = ? AND key != ?", (identity, key)).fetchone()
            if row:
                return row[0]
        return None

    def claim(self, identities: Iterable[str], key: str) -> None:
        """Claim ``identities`` for the item ``key`` for the rest of this run."""
        self._claims()
        self.db.executemany("INSERT OR REPLACE INTO temp.claims (identity, key) VALUES (?, ?)", [(i, key) for i in identities])

    def _claims(self) -> None:
        if not self._claims_made:
            self.db.execute("CREATE TEMP TABLE IF NOT EXISTS claims (identity TEXT PRIMARY KEY, key TEXT NOT NULL)")
            self._claims_made = True

    def known_ids(self, source: str, ids: Iterable[str]) -> set[str]:
        """The subset of ``ids`` already stored for ``source``."""
        wanted = list(ids)
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT id FROM articles WHERE source = ? AND id IN ({marks})", (source, *chunk))
            found.update(row[0] for row in rows)
        return found

    def listing_mark(self, source: str) -> int | None:
        """The newest publication time a *completed* run of ``source`` listed, or None.

        Only a run that finished sets it, so a killed or failed run's unread pages are
        read again next time instead of being hidden behind what it did write.
        """
        row = self.db.execute("SELECT newest FROM listing_marks WHERE source = ?", (source,)).fetchone()
        return row[0] if row else None

    def set_listing_mark(self, source: str, newest: int, now: str | None = None, hold_below: int | None = None) -> None:
        """Record what a completed run listed. The mark never moves back, except below
        ``hold_below``: the publication time of the oldest listed article that failed
        transiently, unfinished work the next run must read down to again."""
        old = self.listing_mark(source)
        mark = newest if old is None else max(old, newest)
        if hold_below is not None:
            mark = min(mark, hold_below - 1)
        self.db.execute(
            """INSERT INTO listing_marks (source, newest, completed) VALUES (?, ?, ?)
               ON CONFLICT(source) DO UPDATE SET newest = excluded.newest, completed = excluded.completed""",
            (source, mark, now or utc_now()),
        )

    def mark_unpublished(self, paths: Iterable[str], now: str | None = None) -> None:
        """Note files about to be written to the site repo, *before* writing them: a run
        killed after the write still leaves them listed for the next run to commit."""
        self.db.executemany(
            "INSERT OR IGNORE INTO unpublished (path, marked) VALUES (?, ?)", [(path, now or utc_now()) for path in paths]
        )

    def unpublished(self) -> list[str]:
        """Files written (or about to be) that no commit or push has yet taken to the site repo."""
        return [row[0] for row in self.db.execute("SELECT path FROM unpublished ORDER BY path")]

    def mark_published(self, paths: Iterable[str]) -> None:
        """Forget files the site repo now holds (after a successful commit, and push when there is a remote)."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("DELETE FROM unpublished WHERE path = ?", [(path,) for path in paths])

    def images(self, key: str) -> dict[str, tuple[str, str]]:
        """The article's images as last localized: URL → (file in its bundle or "", failure reason or "").
        Read without network by anything that renders the article again (``IMAGES_MODE=localize``)."""
        rows = self.db.execute("SELECT url, file, reason FROM images WHERE key = ? ORDER BY url", (key,))
        return {url: (file, reason) for url, file, reason in rows}

    def local_images(self, key: str) -> dict[str, str]:
        """URL → file name in the article's bundle, for the images that were localized."""
        return {url: file for url, (file, _) in self.images(key).items() if file}

    def record_images(self, key: str, outcomes: dict[str, tuple[str, str]]) -> None:
        """Replace what is known of the article's images (URL → (file, reason)), after the files are on disk."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM images WHERE key = ?", (key,))
            self.db.executemany("INSERT INTO images (key, url, file, reason) VALUES (?, ?, ?, ?)",
                                [(key, url, file, reason) for url, (file, reason) in sorted(outcomes.items())])

    def record(self, *, key: str, source: str, id: str, url: str, document_hash: str, path: str,
               aliases: Iterable[str] = (), now: str | None = None) -> None:
        """Store (or update) an article after its file is on disk."""
        now = now or utc_now()
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute(
                """INSERT INTO articles (key, source, id, url, content_hash, path, first_written, last_changed)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(key) DO UPDATE SET url = excluded.url, content_hash = excluded.content_hash,
                       path = excluded.path,
                       last_changed = CASE WHEN articles.content_hash = excluded.content_hash
                                           THEN articles.last_changed ELSE excluded.last_changed END""",
                (key, source, id, url, document_hash, path, now, now),
            )
            self.db.executemany(
                "INSERT OR IGNORE INTO aliases (alias, key) VALUES (?, ?)", [(alias, key) for alias in aliases if alias != key]
            )
            self.db.execute("DELETE FROM refetch WHERE key = ?", (key,))  # fetched again: no longer queued

    # --- for re-renders and ``scrapy state`` -----------------------------------------------------

    def rerendered(self, key: str, document_hash: str, path: str) -> None:
        """A re-render's new hash and path of the article's document; ``last_changed`` stays (no upstream edit)."""
        self.db.execute("UPDATE articles SET content_hash = ?, path = ? WHERE key = ?", (document_hash, path, key))

    def records(self, source: str | None = None, batch: int = 1000) -> Iterator[Record]:
        """Every stored article (of ``source``), by source and id, read ``batch`` rows at a time: a store
        of any size is never all in memory, and no read stays open while the caller writes to it."""
        columns = ", ".join(Record.__dataclass_fields__)
        only, args = ("AND source = ?", (source,)) if source else ("", ())
        after: tuple[str, str] = ("", "")
        while True:
            rows = self.db.execute(f"SELECT {columns} FROM articles WHERE (source, id) > (?, ?) {only} "
                                   "ORDER BY source, id LIMIT ?", (*after, *args, batch)).fetchall()
            yield from (Record(*row) for row in rows)
            if len(rows) < batch:
                return
            after = (rows[-1][1], rows[-1][2])  # its source and id

    def count(self, source: str | None = None) -> int:
        """How many articles are stored (of ``source``)."""
        where, args = ("WHERE source = ?", (source,)) if source else ("", ())
        return self.db.execute(f"SELECT COUNT(*) FROM articles {where}", args).fetchone()[0]

    def aliases_of(self, key: str) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT alias FROM aliases WHERE key = ? ORDER BY alias", (key,))]

    def forget(self, key: str, refetch: bool = False, now: str | None = None) -> None:
        """Drop the article and its aliases: the next run that meets it fetches and writes it again.
        ``refetch``: also queue it for its source's next scheduled run (``refetch_queue``), which
        otherwise may stop at its listing mark before meeting an old article."""
        with self.db:
            self.db.execute("BEGIN")
            if refetch:
                self.db.execute("INSERT OR REPLACE INTO refetch (key, source, id, queued) SELECT key, source, id, ? "
                                "FROM articles WHERE key = ?", (now or utc_now(), key))
            self.db.execute("DELETE FROM aliases WHERE key = ?", (key,))
            self.db.execute("DELETE FROM articles WHERE key = ?", (key,))

    def refetch_queue(self, source: str) -> list[str]:
        """Ids of ``source``'s forgotten articles still to fetch again, oldest request first. An entry
        leaves the queue when its article is recorded again (``record``) or ``drop_refetch``."""
        return [row[0] for row in self.db.execute("SELECT id FROM refetch WHERE source = ? ORDER BY queued, id", (source,))]

    def drop_refetch(self, key: str) -> None:
        self.db.execute("DELETE FROM refetch WHERE key = ?", (key,))

    def listing_marks(self) -> list[tuple[str, int, str]]:
        """(source, newest listed publication time, when that run completed) per source."""
        return list(self.db.execute("SELECT source, newest, completed FROM listing_marks ORDER BY source"))

    def reset_listing_marks(self, source: str | None = None) -> int:
        """Forget the listing mark (of ``source``): the next scheduled run reads as deep as ``pages`` lets it."""
        where, args = ("WHERE source = ?", (source,)) if source else ("", ())
        return self.db.execute(f"DELETE FROM listing_marks {where}", args).rowcount
