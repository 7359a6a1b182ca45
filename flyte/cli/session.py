"""What every API command shares: the client built from the environment and the
global options, the output mode, and the translation of 404 answers."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from urllib.parse import quote

from flyte.cli.output import print_json
from flyte.cli.output import print_yaml
from flyte.cli.output import without_links
from flyte.contract.errors import ConfigError
from flyte.sdk.client import ApiClient
from flyte.sdk.config import DEFAULT_LOCAL_API
from flyte.sdk.config import ClientConfig
from flyte.sdk.errors import ApiError
from flyte.sdk.errors import ResourceNotFound

#: The highest TCP port number.
MAX_PORT = 65535


class Session:
    """One run of the CLI: the environment, the global options, a lazy client."""

    def __init__(self, args: argparse.Namespace, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.json = bool(getattr(args, "json", False))
        self._api: str | None = getattr(args, "api", None)
        self._insecure = bool(getattr(args, "insecure", False))
        self._client: ApiClient | None = None

    @property
    def client_environ(self) -> dict[str, str]:
        """The environment with ``--api`` and ``--insecure`` applied."""
        environ = dict(self.environ)
        if self._api:
            environ["FLYTE_API"] = self._api
        elif not _names_an_api(environ) and environ.get("FLYTE_PORT", "").strip():
            # FLYTE_PORT moved flyte dev's API: follow it instead of 8080.
            environ["FLYTE_API"] = local_api(environ)
        if self._insecure:
            environ["FLYTE_API_TLS_VERIFY"] = "false"
        return environ

    @property
    def client(self) -> ApiClient:
        """The API client, configured on first use (a bad setting is a ConfigError)."""
        if self._client is None:
            config = ClientConfig.from_env(
                self.client_environ, default_api=DEFAULT_LOCAL_API
            )
            self._client = ApiClient(config)
        return self._client

    def close(self) -> None:
        """Close the client's connections, if any were opened."""
        if self._client is not None:
            self._client.close()


def _names_an_api(environ: Mapping[str, str]) -> bool:
    return any(environ.get(name, "").strip() for name in ("FLYTE_API", "FLYTE_API_URL"))


def local_api(environ: Mapping[str, str]) -> str:
    """The API of a local ``flyte dev`` on ``FLYTE_PORT``; https when TLS is set."""
    raw = environ.get("FLYTE_PORT", "").strip()
    if not raw.isdigit() or not 0 < int(raw) <= MAX_PORT:
        raise ConfigError("FLYTE_PORT", f"{raw!r} is not a port (1..{MAX_PORT})")
    scheme = "https" if environ.get("FLYTE_TLS_CERT_PATH", "").strip() else "http"
    return f"{scheme}://localhost:{int(raw)}"


def api_path(*parts: str) -> str:
    """``/v1/...``, each part percent-encoded (ids may hold reserved characters)."""
    return "/v1/" + "/".join(quote(part, safe="") for part in parts)


@contextmanager
def missing_as(missing: ResourceNotFound) -> Iterator[None]:
    """Turn a 404 answer into ``missing``, which names the thing not found."""
    try:
        yield
    except ApiError as ex:
        if ex.status == 404:
            raise missing from ex
        raise


def show_document(session: Session, path: str, missing: ResourceNotFound) -> int:
    """GET one document: its JSON with ``--json``, else YAML without its links."""
    with missing_as(missing):
        body = session.client.get_json(path)
    if session.json:
        print_json(body)
    else:
        print_yaml(without_links(body))
    return 0


def delete_document(
    session: Session, path: str, missing: ResourceNotFound, done: str
) -> int:
    """DELETE one document (204), saying ``done`` unless ``--json``."""
    with missing_as(missing):
        session.client.request("DELETE", path, expect=(204,))
    if not session.json:
        print(done)
    return 0
