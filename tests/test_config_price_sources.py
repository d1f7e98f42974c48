"""Config `pricing.sources`, `auto_update`, `update_interval`, `update_url`: what check-config accepts and refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import load_config

HEAD = """
providers:
  - name: anthropic-prod
    type: anthropic
    api_key: ${ANTHROPIC_KEY}
pricing:
"""


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_KEY", "sk-ant-admin-test")


def check(tmp_path: Path, capsys: pytest.CaptureFixture[str], pricing: str) -> tuple[int, list[str]]:
    path = tmp_path / "config.yaml"
    path.write_text(HEAD + pricing, encoding="utf-8")
    code = main(["check-config", "--config", str(path)])
    return code, capsys.readouterr().err.splitlines()


def test_the_default_chain_is_the_bundled_table_then_the_users_files_then_the_bill(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(HEAD + "  files: []\n", encoding="utf-8")
    pricing = load_config(path).pricing
    assert (pricing.sources, pricing.auto_update, pricing.update_interval) == (
        ("bundled", "files", "bill"),
        False,
        21600,
    )


def test_the_bill_without_any_table_source_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(HEAD + "  sources: [bundled, bill]\n", encoding="utf-8")
    assert load_config(path).pricing.sources == ("bundled", "bill")


def test_the_community_source_with_its_update_settings_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        HEAD + "  sources: [bundled, files, genai-prices]\n  auto_update: true\n  update_interval: 1h\n"
        "  update_url: https://mirror.example.internal/genai-prices/data.json\n",
        encoding="utf-8",
    )
    pricing = load_config(path).pricing
    assert pricing.sources == ("bundled", "files", "genai-prices")
    assert (pricing.auto_update, pricing.update_interval) == (True, 3600)
    assert pricing.update_url == "https://mirror.example.internal/genai-prices/data.json"


@pytest.mark.parametrize(
    ("pricing", "problem"),
    [
        (
            "  sources: [bundled, genai]\n",
            "pricing.sources[1]: unknown price source 'genai'; did you mean 'genai-prices'?",
        ),
        (
            "  sources: [bundled, bill, files]\n",
            "pricing.sources[2]: 'files' comes after 'bill': rates from the bill price only what no other "
            "source prices; list 'bill' last",
        ),
        ("  sources: [files, bundled, files]\n", "pricing.sources[2]: 'files' is listed twice; keep one"),
        (
            "  sources: []\n",
            "pricing.sources: empty; list at least one of bundled, files, genai-prices, bill",
        ),
        ("  auto_update: true\n", "pricing.auto_update: auto_update refreshes the genai-prices source"),
        (
            "  sources: [genai-prices]\n  update_interval: 30s\n",
            "pricing.update_interval: '30s' is too short",
        ),
        ("  sources: [genai-prices]\n  update_url: ftp://x\n", "pricing.update_url: "),
    ],
    ids=["unknown", "bill-not-last", "twice", "empty", "auto-update-without-source", "interval", "url"],
)
def test_a_price_source_setting_that_cannot_work_is_one_line_naming_the_line_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pricing: str, problem: str
) -> None:
    code, lines = check(tmp_path, capsys, pricing)
    assert code == 2
    [line] = [line for line in lines if "error:" in line]
    assert f"{tmp_path / 'config.yaml'}:" in line and problem in line
