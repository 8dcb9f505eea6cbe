"""Scrapy settings. Every value can be overridden on the command line with ``-s NAME=VALUE``."""

from crawler.sources import infoq, pingwest, wallstreetcn, web, wechat
from pipelines.images import DEFAULT_RULES
from pipelines.render import DEFAULT_FRONT_MATTER

BOT_NAME = "crawler"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
#: our ``crawl`` exits with the run's status (pipelines.report) instead of always 0
COMMANDS_MODULE = "crawler.commands"
#: with REDIS_URL set, a run is a worker of a distributed crawl (or its writer): crawler.distributed
ADDONS = {"crawler.distributed.DistributedAddon": 0}

# --- Politeness: these are real sites that owe us nothing -------------------
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
ROBOTSTXT_OBEY = False  # JSON APIs and article pages we are linked to, not site crawls
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5  # each delay random within ±50% (replaces the deprecated RANDOMIZE_DOWNLOAD_DELAY)
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024  # WeChat pages are 2–4 MB; nothing we read is bigger

# Retries with exponential backoff that honours Retry-After (crawler.middlewares).
RETRY_ENABLED = True
RETRY_TIMES = 4
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
RETRY_BACKOFF_BASE = 2.0  # seconds before the first retry; doubles each time
RETRY_BACKOFF_MAX = 120.0  # cap, also applied to Retry-After
DOWNLOADER_MIDDLEWARES = {
    "crawler.outbound.OutboundMiddleware": 50,  # before everything: a refused request goes nowhere
    "crawler.middlewares.LocalFilesMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    # downloader side of the retries: sees each connection failure first, and every retry again
    "crawler.hostguard.HostGuardMiddleware": 560,
}
#: Saved pages (file://) are read in their own slot: no delay, several at once, no retries.
DOWNLOAD_SLOTS = {"local-files": {"concurrency": 8, "delay": 0, "jitter": 0}}
#: Consecutive connection failures (DNS, refused, timeout; not HTTP statuses) after which a host is
#: sent nothing more this run (the rest of its URLs fail ``not-attempted``); 0: never give up.
HOST_FAILURE_LIMIT = 5
#: Scrapy's URL length check, replaced by one that reports what it drops (``url-too-long``) and
#: the scheduler's drops (``request-dropped``) instead of dropping them silently.
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    "crawler.dropped.DroppedRequestsMiddleware": 800,
}
URLLENGTH_LIMIT = 2083

# --- URL lists (-a urls_file) -----------------------------------------------
#: Bytes of one line of a URL list; a longer line fails ``bad-line`` and the list goes on.
URL_LIST_MAX_LINE = 8 * 1024
#: Bytes of a whole URL list: a larger file is refused before any request (``list-too-large``);
#: a list on stdin stops there. 0: no limit.
URL_LIST_MAXSIZE = 16 * 1024 * 1024

# --- What content can make us fetch or read (crawler.outbound, crawler.inputs) ---
#: Hosts (and their subdomains) a WeChat share's original may be on; anything else fails ``disallowed-url``.
SHARE_ALLOWED_HOSTS = [wechat.WECHAT_HOST]
#: CIDRs of private/loopback/link-local… addresses requests may still go to (none: only public addresses).
ALLOWED_PRIVATE_NETWORKS: list[str] = []
#: Bytes a saved page (file read, or gunzipped body) may hold; more fails ``too-large``. 0: DOWNLOAD_MAXSIZE (or 32 MiB).
SAVED_PAGE_MAXSIZE = 32 * 1024 * 1024
#: Saved pages (file://) are read by a handler that refuses non-files and stops at SAVED_PAGE_MAXSIZE.
DOWNLOAD_HANDLERS = {"file": "crawler.inputs.SavedPageHandler"}

TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # no control port on a cron box
LOGSTATS_INTERVAL = 0.0  # off: crawler.progress says how far a run is, in articles
LOG_LEVEL = "INFO"  # Scrapy's start-up chatter is at DEBUG (crawler.logs); the run summary always shows
#: Seconds between progress lines (articles done/total, rate, ETA); 0 turns them off.
PROGRESS_INTERVAL = 30.0
FEED_EXPORT_ENCODING = "utf-8"

# --- Sources ----------------------------------------------------------------
WALLSTREETCN_API_BASE = wallstreetcn.DEFAULT_API_BASE
#: Hosts of the listed sources (crawler.spiders.listed; tests and -a demo=1 point them at a replay server).
INFOQ_BASE = infoq.DEFAULT_BASE
PINGWEST_BASE = pingwest.DEFAULT_BASE
#: Seconds below the newest item the last completed run listed that a scheduled run still reads.
LISTING_OVERLAP = 3600
#: Source label of WeChat articles (category, tag, output folder, footer link label).
WECHAT_SOURCE_NAME = wechat.SOURCE
#: Where mp.weixin.qq.com links are fetched (tests and the demo point it at a replay server).
WECHAT_BASE = f"https://{wechat.WECHAT_HOST}"
#: Per-account junk removal: {"<nickname>|<__biz>|<account number>|<gh_ id>|*": {"blocks": [regex…],
#: "trailer": [regex…], "images": [regex…]}} (see crawler.sources.wechat_clean.JunkRules). Empty: keep all.
WECHAT_JUNK_RULES: dict[str, dict[str, list[str]]] = {}
#: Characters of a WeChat text share's first line kept as its title (it has none of its own), then "…".
TEXT_SHARE_TITLE_LENGTH = wechat.TITLE_LENGTH
#: Source label of pages of other sites (``web`` spider, backfills) by registrable domain, e.g.
#: {"xinhuanet.com": "新华网"}; a domain not listed is its own label.
WEB_SOURCE_NAMES: dict[str, str] = {}
#: Characters of text outside links a page's main content needs to count as an article
#: (fewer: ``no-article``, as for a home page, a listing, an error page or a login wall).
WEB_MIN_TEXT = web.MIN_TEXT

# --- Output -----------------------------------------------------------------
ITEM_PIPELINES = {
    "pipelines.adapters.DedupePipeline": 100,
    "crawler.media.ImageFilesPipeline": 200,  # only with IMAGES_MODE = "localize"
    "pipelines.adapters.RenderPipeline": 300,
    "pipelines.adapters.ArchivePipeline": 700,  # the raw source is kept before the write stage records the article
    "pipelines.adapters.WritePipeline": 800,
}
#: Processes parsing and rendering articles beside the crawl (pipelines.workers), so that work uses other cores; 0: in the crawl's own process.
RENDER_WORKERS = 2
#: Threads of the file writer, a process beside the crawl writing article files and raw sources
#: (``pipelines.adapters.file_pool``), so many at once: an atomic write waits ~1–10 ms on the disk
#: (two fsyncs) and, done in the crawl's thread, left it blocked for most of its time; 0: written in the
#: crawl's own thread.
WRITE_THREADS = 4
#: Items of one response processed at once. A response gives at most one article here, and Scrapy starts
#: this many tasks for every response that yields anything: its default (100) cost the crawl ~3 ms a response.
CONCURRENT_ITEMS = 4
#: Scrapy's check of generator callbacks for ``return value`` reads and parses the callback's source
#: again for almost every listing page (its cache holds the bound method weakly: gone with the request; 0.5 s
#: of CPU in a 600-article crawl under cProfile): off, our callbacks return no value.
WARN_ON_GENERATOR_RETURN_VALUE = False
OUTPUT_DIR = "output"
#: SQLite file of every article written; "" means OUTPUT_DIR/.state/state.sqlite3.
STATE_PATH = ""
#: Raw archive (pipelines/archive.py: every article's source response, versioned); "" means OUTPUT_DIR/.state/archive.
ARCHIVE_DIR = ""
#: Where an article lands under OUTPUT_DIR; unique per source and id.
ARTICLE_PATH = "content/posts/{source}/{id}.md"
#: Zone the front-matter ``date`` is written in (the site's Hugo ``timeZone``).
TIMEZONE = "Asia/Shanghai"
SUMMARY_LENGTH = 50
#: Front matter keys in order; "{title}", "{date}", "{summary}", "{source}", "{thumbnail}" are filled per article.
FRONT_MATTER = DEFAULT_FRONT_MATTER
#: Disclaimer attached before the origin link, per source ("" for none).
DISCLAIMERS = {
    "wallstreetcn": wallstreetcn.DISCLAIMER,
    "wechat": wechat.DISCLAIMER,
    "infoq": infoq.DISCLAIMER,
    "pingwest": pingwest.DISCLAIMER,
}
#: Ordered (regex, replacement) rules for image URLs and thumbnails; the first match wins.
IMAGE_URL_REWRITES = [list(rule) for rule in DEFAULT_RULES]
#: "rewrite": images stay remote URLs (after IMAGE_URL_REWRITES); "localize": each article is a Hugo page
#: bundle (<id>/index.md) holding copies of its images, downloaded from their rewritten URLs (crawler.media).
IMAGES_MODE = "rewrite"
#: Bytes one image may have (localize); a larger one stays remote (``too-large``). 0: DOWNLOAD_MAXSIZE.
IMAGES_MAXSIZE = 0
#: Pixels of one frame above which an image is refused as a decompression bomb (``too-many-pixels``).
IMAGES_MAX_PIXELS = 50_000_000
#: Widest the cover shown as ``thumbnail`` may be (localize): a wider one gets a smaller copy made with
#: Pillow (not animations). 0: the cover as served.
IMAGES_THUMBNAIL_WIDTH = 0
#: sha256 of files that are a host's "this image cannot be shown" picture, not the image (``placeholder-image``).
IMAGES_PLACEHOLDER_HASHES: list[str] = []
#: Referer sent for images per host (and its subdomains); other hosts get none.
IMAGES_REFERERS = {
    "qpic.cn": f"https://{wechat.WECHAT_HOST}/",  # mmbiz.qpic.cn answers a placeholder to other sites' Referer
    "wscn.net": "https://wallstreetcn.com/",
    "awtmt.com": "https://wallstreetcn.com/",
    "wallstcn.com": "https://wallstreetcn.com/",
}
#: The site's Hugo ``disablePathToLower``: localized thumbnails name the bundle's folder as Hugo publishes it.
HUGO_DISABLE_PATH_TO_LOWER = False

# --- End of run: report and site repo -----------------------------------------
EXTENSIONS = {
    "crawler.extensions.PublishExtension": 500,
    "crawler.extensions.RunReportExtension": 510,
    "crawler.progress.ProgressExtension": 520,
    "crawler.garbage.GarbageCollectorExtension": 530,  # fewer and cheaper collections once the spider runs
    "crawler.runlock.RunLockExtension": 900,  # last: released after the report is saved
}
#: Folder of the JSON run reports and retry files; "" means OUTPUT_DIR/.state/reports.
REPORTS_DIR = ""
#: Reports kept per spider (the newest ones; their retry files go with them); 0 = no count limit.
REPORTS_KEEP = 200
#: Reports older than this many days are removed (the newest always stays); 0 = no age limit.
REPORTS_MAX_AGE_DAYS = 30
#: Lock file one run holds at a time (fcntl.flock); None = OUTPUT_DIR/.state/run.lock, "" = no lock.
RUN_LOCK: str | None = None
#: Checkout of the static-site repo; when set, articles are written there (ARTICLE_PATH under
#: it, instead of under OUTPUT_DIR), committed and pushed. Also ``-a site_repo=PATH``.
SITE_REPO = ""
SITE_REMOTE = "origin"  # "" commits without pushing
SITE_BRANCH = ""  # "" = the checked-out branch
SITE_COMMIT_AUTHOR = "news-ingest <news-ingest@localhost>"
SITE_PUSH_ATTEMPTS = 5
SITE_PUSH_BACKOFF = 2.0  # seconds before the second push attempt; doubles
#: A git index.lock older than this (s) was left by a killed git and is removed.
SITE_STALE_LOCK_SECONDS = 600

# --- Distributed runs on Redis (crawler.distributed, crawler.writer) ---------
#: redis://HOST:PORT/DB: `scrapy crawl` runs are workers of one crawl and `scrapy writer` writes; "" = one process.
REDIS_URL = ""
#: Prefix of the crawl's Redis keys: crawls that share a Redis need different prefixes.
REDIS_KEY_PREFIX = "news-ingest"
#: Seconds the crawl must have been done (nothing queued, taken or pushed) before idle workers and the writer end.
MAX_IDLE_TIME_BEFORE_CLOSE = 5.0
#: Seconds without a heartbeat after which a worker counts as dead (its requests go back to the queue)
#: and the writer's key lapses (a restarted writer waits that long).
REDIS_WORKER_TIMEOUT = 30.0
#: Set by `scrapy writer` itself ("writer"); any other run with REDIS_URL is a worker.
REDIS_ROLE = ""
