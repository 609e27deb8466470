"""QATT core: storage, import, sampling, forms, reviews, statistics. Never imports Qt."""

__version__ = "0.1.0"
