"""`spend-monitor check-config` and the shared `--config` option."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.cli.config import add_config_argument

VALID = "providers:\n  - {name: openai-prod, type: openai, api_key: '${SPEND_MONITOR_TEST_KEY}'}\n"


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SPEND_MONITOR_TEST_KEY", "sk-admin-test")
    monkeypatch.delenv("SPEND_MONITOR_CONFIG", raising=False)
    path = tmp_path / "config.yaml"
    path.write_text(VALID, encoding="utf-8")
    return path


def test_valid_config_prints_ok_and_exits_0(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "--config", str(config_file)]) == 0
    assert capsys.readouterr().out == "ok\n"


def test_invalid_config_prints_each_problem_on_stderr_and_exits_2(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file.write_text("timezone: Nowhere/Land\nweek_start: caturday\n" + VALID, encoding="utf-8")
    assert main(["check-config", "--config", str(config_file)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"spend-monitor: error: {config_file}:1: timezone: unknown timezone 'Nowhere/Land' "
        "(expected an IANA name like UTC or Europe/Berlin)",
        f"spend-monitor: error: {config_file}:2: week_start: unknown weekday 'caturday' "
        "(did you mean 'saturday'? expected one of: monday, tuesday, wednesday, thursday, friday, saturday, sunday)",
    ]


def test_missing_config_file_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config", "--config", str(tmp_path / "absent.yaml")]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 1


def test_config_option_is_required_without_environment_default(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SPEND_MONITOR_CONFIG", raising=False)
    assert main(["check-config"]) == 2
    assert "--config" in capsys.readouterr().err


def test_config_option_defaults_to_environment(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SPEND_MONITOR_CONFIG", str(config_file))
    assert main(["check-config"]) == 0
    assert capsys.readouterr().out == "ok\n"


def test_add_config_argument_on_another_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPEND_MONITOR_CONFIG", "/etc/spend-monitor.yaml")
    parser = argparse.ArgumentParser()
    add_config_argument(parser)
    assert parser.parse_args([]).config == "/etc/spend-monitor.yaml"
    assert parser.parse_args(["--config", "other.yaml"]).config == "other.yaml"


def test_config_log_level_sets_the_root_logger_level(config_file: Path) -> None:
    config_file.write_text("log_level: warning\n" + VALID, encoding="utf-8")
    assert main(["check-config", "--config", str(config_file)]) == 0
    assert logging.getLogger().level == logging.WARNING


def test_log_level_option_wins_over_the_config(config_file: Path) -> None:
    config_file.write_text("log_level: error\n" + VALID, encoding="utf-8")
    assert main(["--log-level", "DEBUG", "check-config", "--config", str(config_file)]) == 0
    assert logging.getLogger().level == logging.DEBUG
