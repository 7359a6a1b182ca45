"""``flyte webhooks``: apply webhook files, list, get and delete, on a live API."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml

from tests.flyte.cli.cli import flyte

GITHUB_FILE = """\
# Pushes and pull requests of the acme organisation.
name: github
pack: GitHub
labels: {org: acme}
eventHeader: X-GitHub-Event
keepHeaders: [X-GitHub-Delivery]
signature:
  type: github
  secret: github-webhook-secret
"""
ALERTS_FILE = '{"name": "alerts", "event": "alert"}'


def test_apply_list_get_and_delete(
    live_api: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "github.yaml").write_text(GITHUB_FILE)
    (tmp_path / "alerts.json").write_text(ALERTS_FILE)
    (tmp_path / "notes.txt").write_text("not a webhook")
    run = flyte(capsys, live_api, "webhooks", "apply", str(tmp_path))
    assert run.code == 0, run.err
    assert [line.split()[2] for line in run.out.splitlines()] == ["alerts", "github"]

    listed = flyte(capsys, live_api, "webhooks", "list")
    assert listed.code == 0, listed.err
    rows = [line.split() for line in listed.out.splitlines()]
    assert rows[0] == ["NAME", "PACK", "SIGNATURE", "URL"]
    assert rows[2:] == [
        ["alerts", "webhook-alerts", "none", f"{live_api}/v1/webhooks/alerts"],
        ["github", "GitHub", "github", f"{live_api}/v1/webhooks/github"],
    ]

    shown = flyte(capsys, live_api, "webhooks", "get", "github")
    assert shown.code == 0, shown.err
    config = yaml.safe_load(shown.out)
    assert config["signature"] == {"type": "github", "secret": "github-webhook-secret"}
    assert config["deliveryHeader"] == "X-GitHub-Delivery"
    # What get prints, apply takes back.
    (tmp_path / "again.yaml").write_text(shown.out)
    again = flyte(capsys, live_api, "webhooks", "apply", str(tmp_path / "again.yaml"))
    assert again.code == 0, again.err

    # An unsigned webhook takes deliveries from anyone.
    delivered = httpx.post(f"{live_api}/v1/webhooks/alerts", json={"disk": "full"})
    assert delivered.status_code == 202

    deleted = flyte(capsys, live_api, "webhooks", "delete", "alerts")
    assert (deleted.code, deleted.out) == (0, "deleted webhook alerts\n")
    missing = flyte(capsys, live_api, "webhooks", "get", "alerts")
    assert missing.code == 1
    assert "alerts" in missing.err


def test_a_rejected_or_nameless_file_exits_1(
    live_api: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nsignature: {type: github}\n")
    nameless = tmp_path / "nameless.yaml"
    nameless.write_text("event: push\n")
    run = flyte(capsys, live_api, "webhooks", "apply", str(bad), str(nameless))
    assert run.code == 1
    errors = run.err.splitlines()
    assert "bad.yaml: rejected (400)" in errors[0]
    assert "nameless.yaml: has no name" in errors[1]


def test_a_file_that_is_not_yaml_or_json_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("name: x")
    run = flyte(capsys, "http://127.0.0.1:9", "webhooks", "apply", str(notes))
    assert run.code == 2
    assert "notes.txt" in run.err
