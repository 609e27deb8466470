"""QATT core: storage, import, sampling, forms, reviews, statistics. Never imports Qt."""

__version__ = "0.1.0"

try:  # written by tools/build.py from `git describe` for a frozen build; absent in a source checkout
    from qatt._build_version import BUILD as __build__
except ImportError:
    __build__ = ""
