"""The auth policy: upstream's claims table (auth/policy_test.go), routing, loading."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from flyte.auth.policy import DEFAULT_METHODS
from flyte.auth.policy import METHODS
from flyte.auth.policy import Policy
from flyte.auth.policy import is_fulfilled
from flyte.auth.policy import load_policy
from flyte.auth.policy import parse_policy
from flyte.config import Settings
from flyte.errors import ConfigError
from flyte.schema import load_validator

TOKEN_CLAIMS = {
    "foo": "bar",
    "user": "Mr X",
    "superuser": True,
    "role": "admin",
    "accesslevel": 1,
    "groups": ["dev", "role"],
    "groups2": ["dev2", "role2"],
    "somebools": [True, False, True],
    "willgetignored": [1.2, 1.3, 1.4],
    "pack": "bamboo",
    "namespace": "com.some.namespace",
}

#: upstream's auth/testdata/policy_config.yaml, with our /v1 prefix.
UPSTREAM_POLICY = """
- path: /v1/packs
  methods: [GET]
- path: /v1/packs/:pack
  methods: [GET]
- path: /v1/packs/:pack
  methods: [POST, PUT]
  claims:
    groups: [dev, packwriter]
    role: [admin]
- path: /v1/packs/:pack
  methods: [DELETE]
  claims:
    groups: [packadmin]
- path: /v1/flows/*
  methods: [GET]
- path: /v1/flows/:namespace/:flow
  methods: [GET]
- path: /v1/flows/:namespace/:flow
  methods: [PUT]
  claims:
    groups: [flowwriter]
    role: [admin]
- path: /v1/flows/:namespace/:flow
  methods: [DELETE]
  claims:
    namespaceAdmin: [":namespace"]
- path: /v1/datastore/*
  claims:
    groups: [dev]
"""


@pytest.mark.parametrize(
    "claims",
    [
        {"groups": ["foo", "bar"], "role": ["admin"]},
        {"groups": ["foo", "bar", "dev"]},
        {"groups2": ["dev2"]},
        {"role": ["admin"]},
        {"superuser": ["true"], "groups": ["blah", "blah blah"]},
        {"accesslevel": ["1"]},
        {},
        None,
    ],
)
def test_claims_are_fulfilled(claims: dict[str, list[str]] | None) -> None:
    assert is_fulfilled(claims or {}, TOKEN_CLAIMS, {})


@pytest.mark.parametrize(
    "claims",
    [
        {"groups": ["foo", "bar"], "role": ["superuser"]},
        {"groups": ["foo", "bar"]},
        {"somebools": ["false"]},
        {"superuser": ["false"]},
        {"accesslevel": ["2"]},
        {"willgetignored": ["1.2"]},
        {"missing": ["anything"]},
    ],
)
def test_claims_are_not_fulfilled(claims: dict[str, list[str]]) -> None:
    assert not is_fulfilled(claims, TOKEN_CLAIMS, {})


@pytest.mark.parametrize(
    "claims",
    [{"pack": [":pack"]}, {"namespace": [":namespace"]}, {":accesscontrol": ["dev"]}],
)
def test_dynamic_claims_use_the_path_params(claims: dict[str, list[str]]) -> None:
    params = {
        "pack": "bamboo",
        "namespace": "com.some.namespace",
        "accesscontrol": "groups",
    }
    assert is_fulfilled(claims, TOKEN_CLAIMS, params)


@pytest.mark.parametrize(
    "claims",
    [
        {"pack": [":pack"]},  # github != bamboo
        {"namespace": [":namespace"]},  # the param is missing, so ""
        {":accesscontrol": ["dev", "ssp"]},  # groups2 has neither
    ],
)
def test_dynamic_claims_fail_for_other_params(claims: dict[str, list[str]]) -> None:
    params = {"pack": "github", "accesscontrol": "groups2"}
    assert not is_fulfilled(claims, TOKEN_CLAIMS, params)


@pytest.fixture
def policy() -> Policy:
    return parse_policy(yaml.safe_load(UPSTREAM_POLICY))


@pytest.mark.parametrize(
    ("method", "path", "route", "params"),
    [
        ("GET", "/v1/packs", "/v1/packs", {}),
        ("GET", "/v1/packs/foo", "/v1/packs/:pack", {"pack": "foo"}),
        ("DELETE", "/v1/packs/foo", "/v1/packs/:pack", {"pack": "foo"}),
        (
            "GET",
            "/v1/flows/a/b",
            "/v1/flows/:namespace/:flow",
            {"namespace": "a", "flow": "b"},
        ),
        ("GET", "/v1/flows/a", "/v1/flows/*", {}),
        ("GET", "/v1/flows/a/b/c", "/v1/flows/*", {}),
        ("PATCH", "/v1/datastore/key", "/v1/datastore/*", {}),
    ],
)
def test_find_picks_the_closest_route(
    policy: Policy, method: str, path: str, route: str, params: dict[str, str]
) -> None:
    match = policy.find(method, path)
    assert match is not None
    assert match.rule.path == route
    assert params.items() <= match.params.items()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/health"),
        ("POST", "/v1/packs"),  # the route exists, but not for POST
        ("GET", "/v1/packs/foo/events"),
        ("OPTIONS", "/v1/datastore/key"),  # omitted methods exclude OPTIONS
        ("HEAD", "/v1/packs/foo/events"),  # HEAD follows GET only
        ("GET", "/v1/datastore"),  # * needs at least one more segment
        ("DELETE", "/v1/flows/a/b/c"),
    ],
)
def test_find_returns_none_when_no_route_covers_the_request(
    policy: Policy, method: str, path: str
) -> None:
    assert policy.find(method, path) is None


def test_static_beats_param_beats_wildcard() -> None:
    policy = parse_policy([{"path": "/a/*"}, {"path": "/a/:x"}, {"path": "/a/static"}])
    assert policy.find("GET", "/a/static").rule.path == "/a/static"
    assert policy.find("GET", "/a/other").rule.path == "/a/:x"
    assert policy.find("GET", "/a/other/more").rule.path == "/a/*"


def test_a_wildcard_may_sit_mid_path() -> None:
    policy = parse_policy([{"path": "/v1/packs/*/result"}])
    assert policy.find("POST", "/v1/packs/p/actions/1/result") is not None
    assert policy.find("POST", "/v1/packs/p/actions/1/take") is None


@pytest.mark.parametrize(
    ("methods", "allowed"),
    [(["GET"], True), ([], True), (["POST"], False), (["HEAD"], True)],
)
def test_head_follows_get(methods: list[str], allowed: bool) -> None:
    entry: dict[str, object] = {"path": "/x"}
    if methods:
        entry["methods"] = methods
    assert (parse_policy([entry]).find("HEAD", "/x") is not None) is allowed


def test_head_follows_the_get_of_the_closest_route_only() -> None:
    policy = parse_policy(
        [{"path": "/a/*", "methods": ["GET"]}, {"path": "/a/b", "methods": ["PUT"]}]
    )
    assert policy.find("HEAD", "/a/c") is not None
    assert policy.find("HEAD", "/a/b") is None


def test_omitted_methods_mean_all_but_head_options_trace() -> None:
    rule = parse_policy([{"path": "/x"}]).find("GET", "/x").rule
    assert rule.methods == DEFAULT_METHODS
    assert {"HEAD", "OPTIONS", "TRACE"}.isdisjoint(rule.methods)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"path": "/x"}, "$: must be a list"),
        ([{"methods": ["GET"]}], "$[0].path: needs a 'path' string"),
        ([{"path": 7}], "$[0].path: needs a 'path' string"),
        ([{"path": "/x", "methods": []}], "$[0].methods: must be a non-empty list"),
        (
            [{"path": "/x"}, {"path": "/y", "methods": ["GET", "get"]}],
            "$[1].methods[1]: invalid method; use upper-case CONNECT, DELETE, GET",
        ),
        ([{"path": "/x", "methods": ["FETCH"]}], "$[0].methods[0]: invalid method"),
        ([{"path": "/x", "claims": ["groups"]}], "$[0].claims: must be a mapping"),
        (
            [{"path": "/x", "claims": {"groups": "dev"}}],
            "$[0].claims.groups: must be a list of strings",
        ),
        (
            [{"path": "/x", "claims": {"groups": ["dev", 1.5]}}],
            "$[0].claims.groups[1]: must be a string",
        ),
        ([{"path": "/x", "role": "admin"}], "$[0].role: unknown key"),
    ],
)
def test_invalid_policies_stop_start_up(document: object, message: str) -> None:
    with pytest.raises(ConfigError, match="FLYTE_AUTH_POLICY_PATH") as info:
        parse_policy(document)
    assert message in str(info.value)


def test_every_problem_of_a_policy_file_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("- path: /x\n  methods: [get]\n- methods: [GET]\n  role: admin\n")
    with pytest.raises(ConfigError) as info:
        load_policy(path)
    assert str(info.value) == (
        f"FLYTE_AUTH_POLICY_PATH: {str(path)!r}: "
        "$[0].methods[0]: invalid method; use upper-case CONNECT, DELETE, GET, HEAD,"
        " OPTIONS, PATCH, POST, PUT or TRACE; "
        "$[1].path: needs a 'path' string; "
        "$[1].role: unknown key; an entry has only path, methods and claims"
    )


def test_the_schema_names_the_methods_the_policy_knows() -> None:
    entry = load_validator("policy").schema["$defs"]["entry"]
    assert set(entry["properties"]["methods"]["items"]["enum"]) == METHODS


def test_null_methods_and_claims_mean_the_defaults() -> None:
    rule = parse_policy([{"path": "/x", "methods": None, "claims": None}]).find(
        "GET", "/x"
    )
    assert rule is not None
    assert (rule.rule.methods, rule.rule.claims) == (DEFAULT_METHODS, {})


def test_yaml_claim_values_are_compared_as_strings() -> None:
    policy = parse_policy(yaml.safe_load("- path: /x\n  claims: {admin: [true, 1]}"))
    match = policy.find("GET", "/x")
    assert match is not None
    assert match.rule.claims == {"admin": ("true", "1")}


def test_unparsable_policy_file_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("- path: /x\n  methods: [GET\n- path: /y\n")
    with pytest.raises(ConfigError, match=r"policy.yaml' line \d+: not valid YAML"):
        load_policy(path)


def test_load_policy_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(UPSTREAM_POLICY)
    assert load_policy(path).find("DELETE", "/v1/packs/x") is not None


def _auth_env(tmp_path: Path) -> dict[str, str]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(UPSTREAM_POLICY)
    return {
        "FLYTE_AUTH_POLICY_PATH": str(policy),
        "FLYTE_OIDC_ISSUER_URL": "http://127.0.0.1:5556/dex",
        "FLYTE_OIDC_ISSUER_CLIENT_ID": "example-app",
    }


def test_auth_is_enabled_by_all_three_variables(tmp_path: Path) -> None:
    settings = Settings.from_env(_auth_env(tmp_path))
    assert settings.auth_enabled
    assert settings.oidc_issuer_url == "http://127.0.0.1:5556/dex"
    assert settings.oidc_client_id == "example-app"


@pytest.mark.parametrize(
    "missing",
    [
        "FLYTE_AUTH_POLICY_PATH",
        "FLYTE_OIDC_ISSUER_URL",
        "FLYTE_OIDC_ISSUER_CLIENT_ID",
    ],
)
def test_auth_is_off_when_any_variable_is_missing(tmp_path: Path, missing: str) -> None:
    environ = _auth_env(tmp_path)
    del environ[missing]
    assert not Settings.from_env(environ).auth_enabled


def test_auth_is_off_by_default() -> None:
    assert not Settings.from_env({}).auth_enabled


def test_a_missing_policy_file_stops_start_up(tmp_path: Path) -> None:
    environ = {**_auth_env(tmp_path), "FLYTE_AUTH_POLICY_PATH": "/no/such.yaml"}
    with pytest.raises(ConfigError, match="FLYTE_AUTH_POLICY_PATH.*does not exist"):
        Settings.from_env(environ)


def documented_policy_text() -> str:
    """The packs-and-humans example policy of docs/security.md, as written."""
    text = (Path(__file__).parents[2] / "docs" / "security.md").read_text()
    return text.split("```yaml\n")[1].split("```")[0]


@pytest.fixture
def documented_policy() -> Policy:
    """The packs-and-humans example of docs/security.md."""
    return parse_policy(yaml.safe_load(documented_policy_text()))


@pytest.mark.parametrize(
    ("method", "path", "token", "allowed"),
    [
        ("GET", "/health", {}, True),
        ("GET", "/v1", {}, True),
        ("POST", "/v1/packs/slack/events", {"pack": "slack"}, True),
        ("POST", "/v1/packs/slack/actions/take", {"pack": ["shell", "slack"]}, True),
        ("POST", "/v1/packs/shell/actions/1/result", {"pack": "slack"}, False),
        ("POST", "/v1/packs", {"groups": ["flyte-packs"]}, True),
        ("GET", "/v1/packs", {"groups": ["flyte-users"]}, True),
        ("GET", "/v1/flows", {"groups": ["flyte-users"]}, True),
        ("POST", "/v1/flows", {"groups": ["flyte-users"]}, False),
        ("POST", "/v1/flows", {"groups": ["flyte-admins"]}, True),
        ("GET", "/v1/audit/flows", {"groups": ["flyte-users"]}, True),
        ("PUT", "/v1/datastore/k", {"groups": ["flyte-users"]}, False),
        ("PUT", "/v1/datastore/k", {"groups": ["flyte-admins"]}, True),
        ("DELETE", "/v1/packs/slack", {"pack": "slack"}, False),
    ],
)
def test_the_documented_policy_separates_packs_and_humans(
    documented_policy: Policy, method: str, path: str, token: dict, allowed: bool
) -> None:
    match = documented_policy.find(method, path)
    assert match is not None
    assert is_fulfilled(match.rule.claims, token, match.params) is allowed


def test_a_path_with_many_segments_is_matched_without_deep_recursion() -> None:
    policy = parse_policy([{"path": "/v1/packs/*/result"}, {"path": "/v1/:a/:b"}])
    path = "/v1/packs/" + "a/" * 100_000 + "result"
    assert policy.find("POST", path).rule.path == "/v1/packs/*/result"
    assert policy.find("POST", path + "/x") is None
