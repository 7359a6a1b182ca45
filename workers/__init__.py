"""Dramatiq adapter: ``dramatiq workers`` imports this package to find the actors.

The broker is installed before any actor module is imported, so actors bind to it.
"""

from __future__ import annotations

from flyte.config import Settings
from flyte.logging import configure_logging
from workers.broker import install_broker

settings = Settings.from_env()
configure_logging(settings)
broker = install_broker(settings)

from workers import events  # noqa: E402,F401 - registers the actors
from workers import housekeeping  # noqa: E402,F401
