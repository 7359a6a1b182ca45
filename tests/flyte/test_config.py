"""Settings from the environment: upstream names, defaults and fallbacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from flyte.config import Settings
from flyte.errors import ConfigError


def test_defaults_match_upstream() -> None:
    settings = Settings.from_env({})
    assert settings.port == 8080
    assert settings.mongo_uri == "mongodb://localhost:27017"
    assert settings.mongo_database == "flyte"
    assert settings.redis_url == "redis://localhost:6379/0"
    assert settings.log_level == "INFO"
    assert settings.action_ttl_seconds == 31557600
    assert settings.should_delete_dead_packs is False
    assert settings.delete_dead_packs_at == "23:00"
    assert settings.pack_grace_seconds == 604800
    assert settings.tls_enabled is False


def test_all_variables_are_read(tmp_path: Path) -> None:
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    cert.write_text("c")
    key.write_text("k")
    settings = Settings.from_env(
        {
            "FLYTE_PORT": "9000",
            "FLYTE_MGO_HOST": "mongo:27018",
            "REDIS_URL": "redis://r:6380/1",
            "LOGLEVEL": "DEBUG",
            "FLYTE_TLS_CERT_PATH": str(cert),
            "FLYTE_TLS_KEY_PATH": str(key),
            "FLYTE_TTL_IN_SECONDS": "10",
            "FLYTE_SHOULD_DELETE_DEAD_PACKS": "true",
            "FLYTE_DELETE_DEAD_PACKS_AT_HH_COLON_MM": "11:30",
            "FLYTE_PACK_GRACE_PERIOD_UNTIL_MARKED_DEAD_IN_SECONDS": "60",
            "FLYTE_DATA_DIR": "/data",
        }
    )
    assert settings.port == 9000
    assert settings.mongo_uri == "mongodb://mongo:27018"
    assert settings.redis_url == "redis://r:6380/1"
    assert settings.log_level == "DEBUG"
    assert settings.tls_enabled
    assert settings.action_ttl_seconds == 10
    assert settings.should_delete_dead_packs is True
    assert settings.delete_dead_packs_at == "11:30"
    assert settings.pack_grace_seconds == 60
    assert settings.data_dir == "/data"


def test_port_defaults_to_8443_with_tls(tmp_path: Path) -> None:
    (tmp_path / "c").write_text("c")
    (tmp_path / "k").write_text("k")
    env = {
        "FLYTE_TLS_CERT_PATH": str(tmp_path / "c"),
        "FLYTE_TLS_KEY_PATH": str(tmp_path / "k"),
    }
    assert Settings.from_env(env).port == 8443


def test_tls_needs_both_paths(tmp_path: Path) -> None:
    (tmp_path / "c").write_text("c")
    settings = Settings.from_env({"FLYTE_TLS_CERT_PATH": str(tmp_path / "c")})
    assert not settings.tls_enabled
    assert settings.port == 8080


def test_missing_tls_file_stops_start_up() -> None:
    with pytest.raises(ConfigError, match="FLYTE_TLS_KEY_PATH"):
        Settings.from_env({"FLYTE_TLS_KEY_PATH": "/no/such/key.pem"})


@pytest.mark.parametrize("value", ["abc", "70000", "-1", "80.5"])
def test_bad_port_names_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="FLYTE_PORT"):
        Settings.from_env({"FLYTE_PORT": value})


@pytest.mark.parametrize(
    ("value", "uri", "database"),
    [
        ("db.example:27017", "mongodb://db.example:27017", "flyte"),
        (
            "mongodb://h1,h2/ops?replicaSet=rs0",
            "mongodb://h1,h2/ops?replicaSet=rs0",
            "ops",
        ),
        ("mongodb://h1/", "mongodb://h1/", "flyte"),
    ],
)
def test_mongo_host_or_uri(value: str, uri: str, database: str) -> None:
    settings = Settings.from_env({"FLYTE_MGO_HOST": value})
    assert (settings.mongo_uri, settings.mongo_database) == (uri, database)


def test_unparseable_mongo_host_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="FLYTE_MGO_HOST"):
        Settings.from_env({"FLYTE_MGO_HOST": "mongodb://h:notaport"})


def test_bad_redis_url_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="REDIS_URL"):
        Settings.from_env({"REDIS_URL": "localhost:6379"})


def test_the_broker_is_redis_url_s_unless_flyte_broker_url_names_one() -> None:
    unset = Settings.from_env({"REDIS_URL": "redis://r:6380/1"})
    assert (unset.broker, unset.uses_rabbitmq) == ("redis://r:6380/1", False)
    rabbit = Settings.from_env({"FLYTE_BROKER_URL": "amqp://u:p@mq:5672/flyte"})
    assert (rabbit.broker, rabbit.uses_rabbitmq) == ("amqp://u:p@mq:5672/flyte", True)
    other = Settings.from_env({"FLYTE_BROKER_URL": "rediss://q:6380/2"})
    assert (other.broker, other.uses_rabbitmq) == ("rediss://q:6380/2", False)


@pytest.mark.parametrize("value", ["mq:5672", "http://mq:15672/", "kafka://k:9092"])
def test_a_broker_url_of_another_kind_names_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="FLYTE_BROKER_URL"):
        Settings.from_env({"FLYTE_BROKER_URL": value})


def test_ttl_falls_back_to_default_when_not_an_integer() -> None:
    assert (
        Settings.from_env({"FLYTE_TTL_IN_SECONDS": "soon"}).action_ttl_seconds
        == 31557600
    )


@pytest.mark.parametrize("value", ["garbage", "yes", ""])
def test_dead_pack_flag_falls_back_to_false(value: str) -> None:
    env = {"FLYTE_SHOULD_DELETE_DEAD_PACKS": value}
    assert Settings.from_env(env).should_delete_dead_packs is False


@pytest.mark.parametrize("value", ["1100", "AA:00", "23:AA", "24:00", "23:60"])
def test_invalid_deletion_time_falls_back_to_2300(value: str) -> None:
    env = {"FLYTE_DELETE_DEAD_PACKS_AT_HH_COLON_MM": value}
    assert Settings.from_env(env).delete_dead_packs_at == "23:00"


@pytest.mark.parametrize(
    ("value", "level"),
    [("debug", "DEBUG"), ("WARN", "WARNING"), ("error", "ERROR"), ("nonsense", "INFO")],
)
def test_log_level_uses_zerolog_names_and_falls_back_to_info(
    value: str, level: str
) -> None:
    assert Settings.from_env({"LOGLEVEL": value}).log_level == level


def test_bad_grace_period_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="FLYTE_PACK_GRACE_PERIOD"):
        Settings.from_env(
            {"FLYTE_PACK_GRACE_PERIOD_UNTIL_MARKED_DEAD_IN_SECONDS": "week"}
        )


def test_datastore_max_bytes_defaults_to_a_megabyte_and_is_read() -> None:
    assert Settings.from_env({}).datastore_max_bytes == 1_000_000
    env = {"FLYTE_DATASTORE_MAX_BYTES": " 2048 "}
    assert Settings.from_env(env).datastore_max_bytes == 2048


@pytest.mark.parametrize("value", ["big", "0", "16000001"])
def test_bad_datastore_max_bytes_names_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="FLYTE_DATASTORE_MAX_BYTES"):
        Settings.from_env({"FLYTE_DATASTORE_MAX_BYTES": value})


def test_audit_and_event_retention_are_configurable() -> None:
    settings = Settings.from_env(
        {"FLYTE_AUDIT_TTL_IN_SECONDS": "60", "FLYTE_EVENT_TTL_IN_SECONDS": "30"}
    )
    assert (settings.audit_ttl_seconds, settings.event_ttl_seconds) == (60, 30)
    defaults = Settings.from_env({})
    assert defaults.audit_ttl_seconds == defaults.event_ttl_seconds == 15811200


def test_idempotency_keys_are_kept_a_day_unless_configured() -> None:
    assert Settings.from_env({}).idempotency_window_seconds == 86400
    week = Settings.from_env({"FLYTE_IDEMPOTENCY_WINDOW_SECONDS": "604800"})
    assert week.idempotency_window_seconds == 604800


@pytest.mark.parametrize("value", ["86399", "2592001", "a day"])
def test_an_idempotency_window_outside_a_day_to_30_days_names_the_variable(
    value: str,
) -> None:
    with pytest.raises(ConfigError, match="FLYTE_IDEMPOTENCY_WINDOW_SECONDS"):
        Settings.from_env({"FLYTE_IDEMPOTENCY_WINDOW_SECONDS": value})


@pytest.mark.parametrize("value", ["0", "2147483648", "soon"])
def test_a_retention_mongodb_cannot_hold_names_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="FLYTE_AUDIT_TTL_IN_SECONDS"):
        Settings.from_env({"FLYTE_AUDIT_TTL_IN_SECONDS": value})


def test_the_repair_jobs_run_every_15_and_5_seconds_unless_configured() -> None:
    defaults = Settings.from_env({})
    assert defaults.recovery_interval_seconds == 15
    assert defaults.lease_check_interval_seconds == 5
    settings = Settings.from_env(
        {
            "FLYTE_RECOVERY_INTERVAL_SECONDS": "3",
            "FLYTE_LEASE_CHECK_INTERVAL_SECONDS": "1",
        }
    )
    assert settings.recovery_interval_seconds == 3
    assert settings.lease_check_interval_seconds == 1


@pytest.mark.parametrize("value", ["0", "3601", "1.5"])
@pytest.mark.parametrize(
    "name", ["FLYTE_RECOVERY_INTERVAL_SECONDS", "FLYTE_LEASE_CHECK_INTERVAL_SECONDS"]
)
def test_a_repair_interval_outside_1_to_3600_names_the_variable(
    name: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_proxy_headers_are_trusted_from_everyone_unless_configured() -> None:
    assert Settings.from_env({}).trusted_proxies == ("*",)
    assert Settings.from_env({"FLYTE_TRUSTED_PROXIES": "none"}).trusted_proxies == ()
    settings = Settings.from_env(
        {"FLYTE_TRUSTED_PROXIES": " 10.0.0.0/8, 127.0.0.1 ,fd00::/8"}
    )
    assert settings.trusted_proxies == ("10.0.0.0/8", "127.0.0.1", "fd00::/8")


@pytest.mark.parametrize("value", ["10.0.0.0/33", "proxy.local", "10.0.0.1,nope"])
def test_a_trusted_proxy_that_is_no_address_names_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="FLYTE_TRUSTED_PROXIES"):
        Settings.from_env({"FLYTE_TRUSTED_PROXIES": value})


def test_orphan_window_and_recoveries_are_5_minutes_and_5_unless_configured() -> None:
    defaults = Settings.from_env({})
    assert defaults.orphan_window_seconds == 300
    assert defaults.event_max_recoveries == 5
    settings = Settings.from_env(
        {"FLYTE_ORPHAN_WINDOW_SECONDS": "10", "FLYTE_EVENT_MAX_RECOVERIES": "20"}
    )
    assert settings.orphan_window_seconds == 10
    assert settings.event_max_recoveries == 20


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FLYTE_ORPHAN_WINDOW_SECONDS", "0"),
        ("FLYTE_ORPHAN_WINDOW_SECONDS", "86401"),
        ("FLYTE_ORPHAN_WINDOW_SECONDS", "5m"),
        ("FLYTE_EVENT_MAX_RECOVERIES", "0"),
        ("FLYTE_EVENT_MAX_RECOVERIES", "1001"),
        ("FLYTE_EVENT_MAX_RECOVERIES", "many"),
    ],
)
def test_an_orphan_window_or_recovery_count_out_of_bounds_names_the_variable(
    name: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})
