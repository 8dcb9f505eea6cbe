"""One spider per source (plus ``backfill`` later), all built on ``ArticleSpider``."""
