"""``python -m api``: serve the API (the Procfile ``web`` process), HTTPS if set up."""

from __future__ import annotations

from api.app import build_app
from api.serve import serve
from flyte.config import Settings
from flyte.logging import configure_logging


def main() -> None:
    """Read settings from the environment and serve until stopped."""
    settings = Settings.from_env()
    configure_logging(settings)
    # HTTPS with cheroot when both TLS paths are set, else HTTP with waitress.
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
