"""The ``flyte`` command line: clear errors before anything starts."""

from __future__ import annotations

import pytest

from flyte.cli import main


def test_bad_setting_exits_2_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FLYTE_PORT", "eighty")
    assert main(["dev"]) == 2
    assert "FLYTE_PORT" in capsys.readouterr().err


def test_version_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("flyte ")
