"""The Scrapy project: settings, spiders, middlewares, and the sources they read."""
