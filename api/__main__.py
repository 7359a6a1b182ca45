"""``python -m api``: serve the API with waitress (the Procfile ``web`` process)."""

from __future__ import annotations

import logging

import waitress

from api.app import build_app
from flyte.config import Settings
from flyte.errors import ConfigError
from flyte.logging import configure_logging

logger = logging.getLogger("api")


def main() -> None:
    """Read settings from the environment and serve until stopped."""
    settings = Settings.from_env()
    configure_logging(settings)
    if settings.tls_enabled:
        # Refuse rather than silently serve plain HTTP where TLS was asked for.
        raise ConfigError("FLYTE_TLS_CERT_PATH", "TLS serving is not available yet")
    app = build_app(settings)
    logger.info("Flyte API listening on http://%s:%d", settings.bind, settings.port)
    waitress.serve(
        app,
        host=settings.bind,
        port=settings.port,
        threads=settings.web_threads,
        ident="flyte",
        _quiet=True,
    )


if __name__ == "__main__":
    main()
