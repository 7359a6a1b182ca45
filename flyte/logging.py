"""Process-wide logging set-up, in upstream's console format."""

from __future__ import annotations

import logging

from flyte.config import Settings
from flyte.masking import MaskingFilter

#: ``[INFO] 2022-06-23T10:11:12.123 message`` as upstream's zerolog console writer.
LOG_FORMAT = "[%(levelname)s] %(asctime)s.%(msecs)03d %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"


def configure_logging(settings: Settings) -> None:
    """Send logs to stderr at the configured level."""
    logging.basicConfig(
        level=settings.log_level, format=LOG_FORMAT, datefmt=DATE_FORMAT
    )
    # Secrets revealed in this process (flows' secret()) never reach a log line.
    for handler in logging.root.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
    # pymongo and redis are chatty at DEBUG, APScheduler logs every run at INFO;
    # their detail rarely helps an operator.
    for noisy in ("pymongo", "redis"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, logging.root.level))
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.root.level))
