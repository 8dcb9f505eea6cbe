"""Logs an operator can leave alone: quiet scheduled runs, and a summary no LOG_LEVEL hides.

Scrapy logs its start-up at INFO (versions, every enabled component, the
overridden settings) and, at the end, the whole stats dict: about 100 lines
around a run that did nothing. ``quiet_scrapy()`` demotes those records to DEBUG,
where ``LOG_LEVEL=DEBUG`` still shows them, together with Scrapy's WARNING for a
component switched off on purpose (``NotConfigured`` with a message, e.g. the
site repo hand-off without ``SITE_REPO``). Errors are never touched. It works
with logger filters, which run before the handlers compare a record's level with
``LOG_LEVEL``, so a demoted record is filtered out exactly as a DEBUG one would be.
The full stats are in the run report instead.

The run's summary is logged at ``SUMMARY``, a level above CRITICAL. Handlers
show a record whose level is at least ``LOG_LEVEL``; no ``LOG_LEVEL`` is above
``SUMMARY``, so the summary is always shown, in the same format and in the same
place (stderr, ``LOG_FILE``) as the rest of the log; only ``LOG_ENABLED=False``
silences it. A handler of our own that ignored levels would have to repeat
Scrapy's handler set-up (file, encoding, format) and could disagree with it.
"""

from __future__ import annotations

import logging

from scrapy.utils.log import get_scrapy_root_handler

#: level of the run summary and of the run-lock refusal: above every LOG_LEVEL
SUMMARY = logging.CRITICAL + 10
logging.addLevelName(SUMMARY, "SUMMARY")

#: logger → how the messages demoted to DEBUG start (their format strings, before arguments)
CHATTY: dict[str, tuple[str, ...]] = {
    "scrapy.utils.log": ("Scrapy %(version)s started", "Versions:"),
    "scrapy.addons": ("Enabled addons", "Disabled "),
    "scrapy.middleware": ("Enabled ", "Disabled "),
    "scrapy.crawler": ("Overridden settings",),
    "scrapy.core.engine": ("Spider opened", "Closing spider", "Spider closed"),
    "scrapy.statscollectors": ("Dumping Scrapy stats",),
    "scrapy.extensions.telnet": ("Telnet ",),
}


class Demote(logging.Filter):
    """Turns a logger's records that start with one of ``starts`` into DEBUG records (errors excepted)."""

    def __init__(self, starts: tuple[str, ...]):
        super().__init__()
        self.starts = starts

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR and isinstance(record.msg, str) and record.msg.startswith(self.starts):
            record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return True


def quiet_scrapy() -> None:
    """Demote Scrapy's start-up and shutdown chatter (``CHATTY``) to DEBUG; safe to call twice."""
    for name, starts in CHATTY.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, Demote) for f in logger.filters):
            logger.addFilter(Demote(starts))


def only_errors_from_now() -> None:
    """From now on the log shows errors (and ``SUMMARY``) only: for a run that has said why it does nothing."""
    handler = get_scrapy_root_handler()
    if handler is not None:
        handler.addFilter(lambda record: record.levelno >= logging.ERROR)
