"""A tiny OIDC issuer for the tests: discovery document and JWKS over real HTTP."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from flyte.config import Settings

CLIENT_ID = "example-app"


def new_rsa_key() -> RSAPrivateKey:
    """A fresh 2048-bit RSA key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: RSAPrivateKey) -> bytes:
    """The PEM of the key's public half (what an HS/RS confusion attack signs with)."""
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class Issuer:
    """Serves ``/.well-known/openid-configuration`` and ``/jwks`` on a free port."""

    def __init__(self) -> None:
        self.keys: dict[str, RSAPrivateKey] = {"key-1": new_rsa_key()}
        self.jwks_requests = 0
        self.discovery_issuer: str | None = None  # override to test a mismatch
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/dex"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Shut the server down."""
        self._server.shutdown()
        self._server.server_close()

    def token(
        self,
        claims: dict[str, Any] | None = None,
        *,
        kid: str = "key-1",
        **overrides: Any,
    ) -> str:
        """A token signed by ``kid`` with valid iss/aud/exp unless overridden."""
        now = int(time.time())
        payload = {
            "iss": self.url,
            "aud": CLIENT_ID,
            "sub": "someone",
            "iat": now,
            "exp": now + 300,
            **(claims or {}),
            **overrides,
        }
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(payload, self.keys[kid], "RS256", headers={"kid": kid})

    def discovery(self) -> dict[str, Any]:
        """The discovery document."""
        return {
            "issuer": self.discovery_issuer or self.url,
            "jwks_uri": f"{self.url}/keys",
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def jwks(self) -> dict[str, Any]:
        """The public keys, as a JWK set."""
        self.jwks_requests += 1
        keys = []
        for kid, key in self.keys.items():
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": keys}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                routes = {
                    "/dex/.well-known/openid-configuration": issuer.discovery,
                    "/dex/keys": issuer.jwks,
                }
                route = routes.get(self.path)
                body = json.dumps(route()).encode() if route else b"{}"
                self.send_response(200 if route else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def secured_settings(
    settings: Settings, issuer: Issuer, directory: Path, policy: str
) -> Settings:
    """``settings`` with auth on: ``issuer`` verifies tokens, ``policy`` decides.

    The policy is written to ``directory/policy.yaml``.
    """
    path = directory / "policy.yaml"
    path.write_text(policy)
    return dataclasses.replace(
        settings,
        auth_policy_path=str(path),
        oidc_issuer_url=issuer.url,
        oidc_client_id=CLIENT_ID,
    )
