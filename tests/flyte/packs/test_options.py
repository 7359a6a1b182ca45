"""Running an example by name, and the options every example shares."""

from __future__ import annotations

import pytest

from flyte.contract.errors import FlyteError
from flyte.packs import EXAMPLES
from flyte.packs import run_example
from flyte.packs.errors import UnknownExample
from flyte.packs.options import OptionParser
from flyte.packs.options import positive_float


def parser(environ: dict[str, str]) -> OptionParser:
    options = OptionParser("prog", "test", environ)
    options.option("--timeout", env="T", type=positive_float, default=60.0, help="t")
    options.option("--host", env="HOSTS", default=[], repeat=True, help="h")
    return options


def test_every_example_is_described_and_runs_as_a_module() -> None:
    assert set(EXAMPLES) == {"shell", "http", "timer", "chat"}
    assert all(description for description in EXAMPLES.values())


def test_an_unknown_example_is_a_flyte_error_naming_the_known_ones() -> None:
    with pytest.raises(UnknownExample, match="'nope'; choose one of shell, http"):
        run_example("nope", [], {})
    assert issubclass(UnknownExample, FlyteError)


def test_an_option_defaults_to_its_variable_then_its_default() -> None:
    assert parser({}).parse([]).timeout == 60.0
    assert parser({"T": "5"}).parse([]).timeout == 5.0
    assert parser({"T": "5"}).parse(["--timeout", "2"]).timeout == 2.0


def test_a_repeated_option_reads_a_comma_separated_variable() -> None:
    assert parser({"HOSTS": "a.com, b.com,"}).parse([]).host == ["a.com", "b.com"]
    assert parser({"HOSTS": "a.com"}).parse(["--host", "c.com"]).host == ["c.com"]


def test_the_help_names_each_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run_example("http", ["--help"], {})

    assert exited.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    for variable in ("PACK_NAME", "FLYTE_HTTP_TIMEOUT", "FLYTE_HTTP_ALLOWED_HOSTS"):
        assert f"env {variable}" in help_text


@pytest.mark.parametrize(
    ("name", "argv", "environ", "error"),
    [
        ("shell", ["--timeout", "0"], {}, "argument --timeout: '0' must be above 0"),
        (
            "shell",
            [],
            {"FLYTE_SHELL_MAX_OUTPUT_BYTES": "lots"},
            "FLYTE_SHELL_MAX_OUTPUT_BYTES: 'lots' is not a whole number",
        ),
        (
            "shell",
            ["--workdir", "/no/such/dir"],
            {},
            "'/no/such/dir' is not a directory",
        ),
        ("http", ["--bogus"], {}, "unrecognized arguments: --bogus"),
        (
            "chat",
            [],
            {"FLYTE_POLLING_INTERVAL": "soon"},
            "FLYTE_POLLING_INTERVAL: 'soon' is not a number",
        ),
    ],
)
def test_a_bad_option_is_one_line_on_stderr_and_exit_2(
    name: str,
    argv: list[str],
    environ: dict[str, str],
    error: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        run_example(name, argv, environ)

    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"flyte pack run {name}: error: ")
    assert error in err


def test_a_bad_client_setting_is_one_line_on_stderr_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = run_example("shell", [], {"FLYTE_LABELS": "nolabel"})

    assert status == 2
    assert capsys.readouterr().err == (
        "flyte pack run shell: error: FLYTE_LABELS: 'nolabel' is not key=value\n"
    )
