"""The installed package's version (``happysimulator.__version__``)."""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("happysim-rx")
except metadata.PackageNotFoundError:  # running from a checkout that is not installed
    __version__ = "0.0.0+unknown"
