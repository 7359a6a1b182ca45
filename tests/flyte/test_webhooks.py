"""Webhook configurations and signature checks, with the senders' own examples."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC
from datetime import datetime

import pytest

from flyte.errors import DatastoreItemNotFound
from flyte.webhooks import InvalidWebhook
from flyte.webhooks import SignatureKind
from flyte.webhooks import SignatureRefused
from flyte.webhooks import WebhookConfig
from flyte.webhooks import delivery_event
from flyte.webhooks import parse_config
from flyte.webhooks import verify_signature

#: GitHub's worked example ("Validating webhook deliveries", docs.github.com).
GITHUB_SECRET = "It's a Secret to Everybody"
GITHUB_PAYLOAD = b"Hello, World!"
GITHUB_SIGNATURE = (
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
)


class Secrets:
    """Datastore secrets by key, as DatastoreStore.reveal_secret gives them."""

    def __init__(self, **values: str) -> None:
        self.values = values

    def reveal_secret(self, key: str) -> str:
        """The plaintext, or DatastoreItemNotFound."""
        if key not in self.values:
            raise DatastoreItemNotFound(key)
        return self.values[key]


SECRETS = Secrets(github=GITHUB_SECRET, gitlab="glpat-token-1", generic="s3cr3t")


def config(signature: dict[str, str]) -> WebhookConfig:
    return parse_config("hook", {"signature": signature})


def test_the_github_example_signature_is_what_hmac_sha256_gives() -> None:
    digest = hmac.new(GITHUB_SECRET.encode(), GITHUB_PAYLOAD, hashlib.sha256)
    assert "sha256=" + digest.hexdigest() == GITHUB_SIGNATURE


def test_githubs_documented_delivery_is_accepted() -> None:
    github = config({"type": "github", "secret": "github"})
    headers = {"x-hub-signature-256": GITHUB_SIGNATURE}
    verify_signature(github, headers, GITHUB_PAYLOAD, SECRETS)


@pytest.mark.parametrize(
    ("headers", "body", "why"),
    [
        ({}, GITHUB_PAYLOAD, "missing"),
        ({"x-hub-signature-256": GITHUB_SIGNATURE}, b"Hello, World?", "not match"),
        ({"x-hub-signature-256": GITHUB_SIGNATURE[7:]}, GITHUB_PAYLOAD, "not match"),
        ({"x-hub-signature-256": "sha256=" + "0" * 64}, GITHUB_PAYLOAD, "not match"),
    ],
)
def test_a_forged_or_unsigned_github_delivery_is_refused(
    headers: dict[str, str], body: bytes, why: str
) -> None:
    github = config({"type": "github", "secret": "github"})
    with pytest.raises(SignatureRefused, match=why):
        verify_signature(github, headers, body, SECRETS)


def test_gitlab_compares_the_shared_token() -> None:
    gitlab = config({"type": "gitlab", "secret": "gitlab"})
    verify_signature(gitlab, {"x-gitlab-token": "glpat-token-1"}, b"{}", SECRETS)
    with pytest.raises(SignatureRefused):
        verify_signature(gitlab, {"x-gitlab-token": "glpat-token-2"}, b"{}", SECRETS)
    with pytest.raises(SignatureRefused, match="X-Gitlab-Token header is missing"):
        verify_signature(gitlab, {}, b"{}", SECRETS)


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
def test_a_generic_hmac_has_its_header_algorithm_and_prefix(algorithm: str) -> None:
    generic = config(
        {
            "type": "hmac",
            "secret": "generic",
            "header": "X-Signature",
            "algorithm": algorithm,
            "prefix": f"{algorithm}=",
        }
    )
    body = b'{"alert": "disk full"}'
    digest = hmac.new(b"s3cr3t", body, getattr(hashlib, algorithm)).hexdigest()
    verify_signature(generic, {"x-signature": f"{algorithm}={digest}"}, body, SECRETS)
    with pytest.raises(SignatureRefused):
        verify_signature(generic, {"x-signature": digest}, body, SECRETS)


def test_a_missing_signing_secret_refuses_every_delivery() -> None:
    github = config({"type": "github", "secret": "not-stored"})
    headers = {"x-hub-signature-256": GITHUB_SIGNATURE}
    with pytest.raises(SignatureRefused, match="secret is not set"):
        verify_signature(github, headers, GITHUB_PAYLOAD, SECRETS)


def test_a_github_config_defaults_to_its_delivery_header() -> None:
    github = config({"type": "github", "secret": "github"})
    assert github.signature.kind is SignatureKind.GITHUB
    assert github.delivery_header == "X-GitHub-Delivery"
    assert github.pack == "webhook-hook"
    assert config({"type": "gitlab", "secret": "g"}).delivery_header == (
        "X-Gitlab-Event-UUID"
    )


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"signature": {"type": "github"}}, "signature.secret"),
        ({"signature": {"type": "rsa", "secret": "k"}}, "signature.type"),
        ({"signature": {"type": "hmac", "secret": "k"}}, "signature.header"),
        (
            {
                "signature": {
                    "type": "hmac",
                    "secret": "k",
                    "header": "X-S",
                    "algorithm": "md5",
                }
            },
            "signature.algorithm",
        ),
        ({"keepHeaders": ["X Bad"]}, "keepHeaders"),
        ({"eventHeader": 3}, "eventHeader"),
        ({"labels": {"a": 1}}, "labels"),
        ({"name": "other"}, "name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_configuration_names_the_field(
    body: dict[str, object], location: str
) -> None:
    with pytest.raises(InvalidWebhook) as raised:
        parse_config("hook", body)
    assert location in [problem.location for problem in raised.value.problems]


def test_the_event_takes_its_name_from_the_header_and_keeps_chosen_headers() -> None:
    hook = parse_config(
        "github",
        {
            "pack": "GitHub",
            "labels": {"org": "acme"},
            "event": "unknown",
            "eventHeader": "X-GitHub-Event",
            "keepHeaders": ["X-GitHub-Delivery", "X-GitHub-Hook-ID"],
        },
    )
    now = datetime(2026, 1, 2, tzinfo=UTC)
    headers = {
        "x-github-event": "push",
        "x-github-delivery": "d-1",
        "authorization": "Bearer never-kept",
    }
    event = delivery_event(hook, headers, {"ref": "main"}, "e1", now)
    assert event.name == "push"
    assert (event.pack.name, dict(event.pack.labels)) == ("GitHub", {"org": "acme"})
    assert event.payload == {
        "body": {"ref": "main"},
        "headers": {"x-github-delivery": "d-1"},
    }
    assert delivery_event(hook, {}, None, "e2", now).name == "unknown"


def test_a_configuration_round_trips_through_its_json() -> None:
    hook = parse_config(
        "alerts",
        {
            "signature": {
                "type": "hmac",
                "secret": "k",
                "header": "X-Sig",
                "algorithm": "sha512",
                "prefix": "v1=",
            },
            "keepHeaders": ["User-Agent"],
            "description": "monitoring alerts",
        },
    )
    assert parse_config("alerts", hook.to_json()) == hook
