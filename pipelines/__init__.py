"""Article processing: source HTML in, one Hugo Markdown file out.

Everything here is plain Python usable without a crawl; ``pipelines.adapters``
holds the thin Scrapy item-pipeline classes that call it.
"""
