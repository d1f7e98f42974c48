"""What a config or price file may make the daemon read is bounded: `/dev/zero`, a huge file, a
"billion laughs" document and a secret file that never ends are one-line errors (exit 2), not a
process that eats all memory. Each test also bounds the test process' own memory, so a regression
fails with MemoryError quickly instead of taking the machine down."""

from __future__ import annotations

import os
import resource
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.errors import PricingError
from monitor.pricing import PriceTable
from monitor.yamlfile import MAX_FILE_BYTES, MAX_NODES

PROVIDER = """providers:
  - name: openai-prod
    type: openai
    api_key: ${OPENAI_ADMIN_KEY}
"""
MEMORY_LIMIT = 2 * 1024**3
"""Address space for the whole test process: far above what reading a config takes."""


def billion_laughs(levels: int = 9) -> str:
    """A few hundred bytes that stand for 9**levels values once the aliases are expanded."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


@pytest.fixture(autouse=True)
def bounded_memory() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (min(MEMORY_LIMIT, hard) if hard > 0 else MEMORY_LIMIT, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-admin-test")


def check_config(path: Path | str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["check-config", "--config", str(path)])
    return code, capsys.readouterr().err.splitlines()


@pytest.mark.usefixtures("env")
def test_dev_zero_as_the_config_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = check_config("/dev/zero", capsys)
    assert code == 2
    assert lines == [
        f"spend-monitor: error: /dev/zero: the config file is larger than {MAX_FILE_BYTES:,} bytes "
        "(is it the right file? a config file is a few kB of YAML)"
    ]


@pytest.mark.usefixtures("env")
def test_a_billion_laughs_config_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(billion_laughs() + PROVIDER + "budgets: *l8\n", encoding="utf-8")
    code, lines = check_config(path, capsys)
    assert code == 2
    assert lines == [
        f"spend-monitor: error: {path}: the YAML document stands for more than {MAX_NODES:,} values once its "
        "aliases (*name) are expanded; write the values out, or use fewer aliases of aliases"
    ]


@pytest.mark.usefixtures("env")
def test_aliases_that_expand_to_a_few_values_still_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        PROVIDER
        + "budgets:\n  - {name: a, amount_usd: 10, period: day, scope: &openai {provider: openai}}\n"
        + "  - {name: b, amount_usd: 99, period: month, scope: *openai}\n",
        encoding="utf-8",
    )
    assert check_config(path, capsys) == (0, [])


@pytest.mark.usefixtures("env")
def test_a_secret_file_that_never_ends_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(PROVIDER.replace("${OPENAI_ADMIN_KEY}", "${file:/dev/zero}"), encoding="utf-8")
    code, lines = check_config(path, capsys)
    assert code == 2
    assert lines == [
        f"spend-monitor: error: {path}:4: providers[0].api_key: secret file '/dev/zero' is larger than 65,536 "
        "bytes (a secret file holds one secret; check the ${file:...} path)"
    ]


def test_dev_zero_as_a_price_file_is_one_line() -> None:
    with pytest.raises(PricingError) as caught:
        PriceTable.load(extra_files=[Path("/dev/zero")])
    assert str(caught.value) == (
        f"/dev/zero: the price file is larger than {MAX_FILE_BYTES:,} bytes "
        "(is it the right file? a price file is a few kB of YAML)"
    )


def test_a_billion_laughs_price_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(billion_laughs() + "models: *l8\n", encoding="utf-8")
    with pytest.raises(PricingError, match="stands for more than 100,000 values once its aliases"):
        PriceTable.load(extra_files=[path])


def test_a_config_past_the_size_bound_is_refused_before_it_is_parsed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    with path.open("w", encoding="utf-8") as out:
        out.write(PROVIDER)
        out.write("# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    assert os.path.getsize(path) > MAX_FILE_BYTES
    code, lines = check_config(path, capsys)
    assert code == 2 and len(lines) == 1 and "is larger than 4,194,304 bytes" in lines[0]
