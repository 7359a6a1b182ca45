"""Client settings from the environment, with upstream's names and defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from flyte.contract.errors import ConfigError
from flyte.sdk.config import DEFAULT_API_TIMEOUT_SECONDS
from flyte.sdk.config import ClientConfig
from flyte.sdk.config import parse_labels


def test_flyte_api_is_read_with_its_trailing_slash_removed() -> None:
    config = ClientConfig.from_env({"FLYTE_API": "http://flyte:8080/"})
    assert config.api_url == "http://flyte:8080"


def test_flyte_api_url_of_older_packs_is_accepted() -> None:
    assert ClientConfig.from_env({"FLYTE_API_URL": "http://old:8080"}).api_url == (
        "http://old:8080"
    )


def test_flyte_api_wins_over_flyte_api_url() -> None:
    environ = {"FLYTE_API": "http://new", "FLYTE_API_URL": "http://old"}
    assert ClientConfig.from_env(environ).api_url == "http://new"


def test_an_empty_environment_means_the_api_of_flyte_dev() -> None:
    assert ClientConfig.from_env({}).api_url == "http://localhost:8080"


def test_a_default_api_applies_only_when_none_is_set() -> None:
    environ = {"FLYTE_API": "http://flyte:8080"}
    assert ClientConfig.from_env({}, default_api="http://other").api_url == (
        "http://other"
    )
    assert ClientConfig.from_env(environ, default_api="http://other").api_url == (
        "http://flyte:8080"
    )


def test_no_default_makes_a_missing_api_url_an_error_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="FLYTE_API: not set"):
        ClientConfig.from_env({}, default_api=None)


def test_an_api_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ConfigError, match="not an http"):
        ClientConfig.from_env({"FLYTE_API": "flyte:8080"})


def test_defaults_are_upstreams() -> None:
    config = ClientConfig.from_env({"FLYTE_API": "http://f"})
    assert config.timeout == DEFAULT_API_TIMEOUT_SECONDS == 10
    assert (config.labels, config.jwt, config.verify_tls) == ({}, None, True)


def test_no_health_endpoint_unless_a_port_is_named() -> None:
    """Two packs on one host would collide on any fixed default port."""
    assert ClientConfig.from_env({}).health_port == 0
    named = {"FLYTE_PACK_HEALTH_PORT": "8091"}
    assert ClientConfig.from_env(named).health_port == 8091


@pytest.mark.parametrize(
    ("raw", "labels"),
    [
        ("", {}),
        ("env=prod", {"env": "prod"}),
        (" env = prod , team=ops ", {"env": "prod", "team": "ops"}),
        ("url=a=b", {"url": "a=b"}),
    ],
)
def test_labels_are_parsed_and_trimmed(raw: str, labels: dict[str, str]) -> None:
    assert parse_labels(raw) == labels


@pytest.mark.parametrize("raw", ["env", "env=prod,", "=prod", "a=b,,c=d"])
def test_a_malformed_label_list_is_an_error(raw: str) -> None:
    with pytest.raises(ConfigError, match="FLYTE_LABELS"):
        parse_labels(raw)


@pytest.mark.parametrize("raw", ["soon", "0", "-1", "inf", "nan"])
def test_a_timeout_that_is_not_positive_seconds_is_an_error(raw: str) -> None:
    with pytest.raises(ConfigError, match="FLYTE_API_TIMEOUT"):
        ClientConfig.from_env({"FLYTE_API": "http://f", "FLYTE_API_TIMEOUT": raw})


def test_timeout_and_token_are_read() -> None:
    environ = {"FLYTE_API": "http://f", "FLYTE_API_TIMEOUT": "2.5", "FLYTE_JWT": "t"}
    config = ClientConfig.from_env(environ)
    assert (config.timeout, config.jwt) == (2.5, "t")


@pytest.mark.parametrize(("raw", "verify"), [("false", False), ("0", False)])
def test_tls_verification_can_be_turned_off(raw: str, verify: bool) -> None:
    environ = {"FLYTE_API": "https://f", "FLYTE_API_TLS_VERIFY": raw}
    assert ClientConfig.from_env(environ).verify_tls is verify


def test_tls_verification_can_use_a_ca_bundle(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    environ = {"FLYTE_API": "https://f", "FLYTE_API_TLS_VERIFY": str(bundle)}
    assert ClientConfig.from_env(environ).verify_tls == str(bundle)


def test_a_tls_setting_that_is_no_file_is_an_error() -> None:
    environ = {"FLYTE_API": "https://f", "FLYTE_API_TLS_VERIFY": "/no/such/ca.pem"}
    with pytest.raises(ConfigError, match="FLYTE_API_TLS_VERIFY"):
        ClientConfig.from_env(environ)


@pytest.mark.parametrize("raw", ["http", "-1", "70000"])
def test_a_health_port_that_is_no_port_is_an_error(raw: str) -> None:
    environ = {"FLYTE_API": "http://f", "FLYTE_PACK_HEALTH_PORT": raw}
    with pytest.raises(ConfigError, match="FLYTE_PACK_HEALTH_PORT"):
        ClientConfig.from_env(environ)
