"""Malformed price data: extra price files (`PriceTable.load(extra_files=...)`, `pricing.files`) and
inline `pricing.overrides` in a config.

Prices decide every dollar the monitor reports, so a bad entry must stop the load with a PricingError
(or a ConfigError for overrides) whose every line names the file and the key path and says what is
wrong, and from the CLI an exit code of 2 without a traceback, never a silently wrong price.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main
from monitor.errors import PricingError
from monitor.pricing import PriceTable

HEAD = "models:\n  - provider: openai\n    model: acme-1\n    prices:\n"
"""A price file whose first block goes on line 5."""


def block(text: str) -> str:
    """A price file with one model (acme-1) and one dated block written as a flow mapping."""
    return HEAD + f"      - {text}\n"


def rates(standard: str) -> str:
    """A valid block whose standard rates are `standard`."""
    return block(f"{{effective_from: 2026-01-01, source: contract, standard: {standard}}}")


Expected = list[tuple[str, str]]
"""Per problem line: (the key path after '<file>: ', a fragment of the message)."""

# fmt: off
FILE_CASES: list[Any] = [
    pytest.param(rates("{input: abc}"), [("models[0].prices[0].standard.input", "'abc' is not a number")], id="non-numeric"),
    pytest.param(rates("{input: -1.5}"), [("models[0].prices[0].standard.input", "-1.5 is negative; prices are 0 or more")], id="negative"),
    pytest.param(rates("{input: 0.1234567}"), [("models[0].prices[0].standard.input", "0.1234567 has more than 6 decimals")], id="seven-decimals"),
    pytest.param(rates("{input: .inf}"), [("models[0].prices[0].standard.input", "'.inf' is not a number")], id="infinite"),
    pytest.param(rates("{input: .nan}"), [("models[0].prices[0].standard.input", "is not a number")], id="nan"),
    pytest.param(rates("{input: true}"), [("models[0].prices[0].standard.input", "True is not a number")], id="boolean"),
    pytest.param(rates("{input: [1]}"), [("models[0].prices[0].standard.input", "[1] is not a number")], id="list-price"),
    pytest.param(rates("{inptu: 1}"), [("models[0].prices[0].standard.inptu", "unknown token type 'inptu'; did you mean 'input'?")], id="unknown-token-type"),
    pytest.param(rates("[1, 2]"), [("models[0].prices[0].standard", "expected a mapping of token type to USD per 1M, got list"), ("models[0].prices[0]", "no prices")], id="tier-is-a-list"),
    pytest.param(
        block("{effective_from: 2026-01-01, source: s, premium: {input: 1}}"),
        [("models[0].prices[0].premium", "unknown key 'premium'"), ("models[0].prices[0]", "no prices: give at least one of standard, batch, flex, priority, fast, ultrafast or units")],
        id="unknown-tier",
    ),
    pytest.param(rates("{input: 1}, priority: {input: 2}, fast: {input: 2}"), [("models[0].prices[0].priority", "openai calls this tier 'fast' since 2026-07-30; give fast only")], id="openai-priority-and-fast"),
    pytest.param(block("{effective_from: 2026-01-01, source: s, standard: {input: 1}, inference_geo: {us: 0}}"), [("models[0].prices[0].inference_geo.us", "0 is not a positive multiplier (e.g. 1.1)")], id="zero-geo-multiplier"),
    pytest.param(block("{effective_from: 2026-01-01, source: s, standard: {input: 1}, inference_geo: [us]}"), [("models[0].prices[0].inference_geo", "expected a mapping of inference geo to a price multiplier, got list")], id="geo-not-a-mapping"),
    pytest.param(HEAD.replace("    prices:", "    shutdown: soon\n    prices:") + "      - {effective_from: 2026-01-01, source: s, standard: {input: 1}}\n", [("models[0].shutdown", "'soon' is not a date (YYYY-MM-DD)")], id="shutdown-not-a-date"),
    pytest.param(block("{effective_from: 2026-01-01, standard: {input: 1}}"), [("models[0].prices[0].source", "missing; cite where the price comes from")], id="missing-source"),
    pytest.param(block("{effective_from: 2026-01-01, source: '  ', standard: {input: 1}}"), [("models[0].prices[0].source", "is not text; cite where the price comes from")], id="blank-source"),
    pytest.param(block("{source: s, standard: {input: 1}}"), [("models[0].prices[0].effective_from", "missing; give the date the price took effect (YYYY-MM-DD)")], id="missing-effective-from"),
    pytest.param(block("{effective_from: January 1, source: s, standard: {input: 1}}"), [("models[0].prices[0].effective_from", "'January 1' is not a date (YYYY-MM-DD)")], id="date-in-words"),
    pytest.param(block("{effective_from: '2026-02-30', source: s, standard: {input: 1}}"), [("models[0].prices[0].effective_from", "'2026-02-30' is not a date")], id="quoted-impossible-date"),
    pytest.param(block("{effective_from: 2026-01-01 10:00:00, source: s, standard: {input: 1}}"), [("models[0].prices[0].effective_from", "is not a date (YYYY-MM-DD)")], id="datetime-not-date"),
    pytest.param(block("{effective_from: 20260101, source: s, standard: {input: 1}}"), [("models[0].prices[0].effective_from", "20260101 is not a date")], id="date-as-number"),
    pytest.param(
        rates("{input: 1}") + "      - {effective_from: 2026-01-01, source: other, standard: {input: 2}}\n",
        [("models[0].prices[1].effective_from", "2026-01-01 appears twice for acme-1")],
        id="duplicate-effective-date",
    ),
    pytest.param(block("{effective_from: 2026-01-01, source: s}"), [("models[0].prices[0]", "no prices: give at least one of")], id="block-without-prices"),
    pytest.param(HEAD.replace("    prices:\n", "    prices: {standard: {input: 1}}\n"), [("models[0].prices", "expected a non-empty list of dated price blocks")], id="prices-is-a-mapping"),
    pytest.param(HEAD.replace("    prices:\n", "    prices: []\n"), [("models[0].prices", "expected a non-empty list of dated price blocks")], id="prices-empty"),
    pytest.param(rates("{input: 1}").replace("    model: acme-1\n", ""), [("models[0].model", "missing")], id="missing-model-name"),
    pytest.param(rates("{input: 1}").replace("provider: openai", "provider: ''"), [("models[0].provider", "'' is not a name")], id="empty-provider"),
    pytest.param("models:\n  - acme-1\n", [("models[0]", "expected a model entry (a mapping), got str")], id="model-entry-is-a-string"),
    pytest.param("models:\n  provider: openai\n", [("models", "expected a list of model entries, got dict")], id="models-is-a-mapping"),
    pytest.param(
        block("{effective_from: 2026-01-01, source: s, standard: {input: 1}, long_context: {above_tokens: -5, standard: {input: 2}}}"),
        [("models[0].prices[0].long_context.above_tokens", "-5 is not a positive whole number of tokens")],
        id="long-context-negative-threshold",
    ),
    pytest.param(
        block("{effective_from: 2026-01-01, source: s, units: {web_search_requests: ten}}"),
        [("models[0].prices[0].units.web_search_requests", "'ten' is not a number"), ("models[0].prices[0]", "no prices")],
        id="unit-price-in-words",
    ),
    pytest.param(HEAD.replace("    prices:\n", "    cheaper: acme-0\n    prices:\n") + "      - {effective_from: 2026-01-01, source: s, standard: {input: 1}}\n", [("models[0].cheaper", "'acme-0' is not a")], id="cheaper-model-unknown"),
]
# fmt: on


@pytest.mark.parametrize(("content", "expected"), FILE_CASES)
def test_bad_price_file_is_a_pricing_error_naming_file_and_key_path(
    tmp_path: Path, content: str, expected: Expected
) -> None:
    path = tmp_path / "negotiated.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PricingError) as caught:
        PriceTable.load(extra_files=[path])
    lines = str(caught.value).splitlines()
    assert len(lines) == len(expected), lines
    for key_path, fragment in expected:
        assert [line for line in lines if line.startswith(f"{path}: {key_path}: ") and fragment in line], (
            key_path,
            lines,
        )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            rates("{input: 1"), ":6:1: invalid YAML: expected ',' or '}'", id="yaml-unclosed-mapping"
        ),
        pytest.param(
            HEAD + "\t- {}\n",
            ":5:1: invalid YAML: found character '\\t' that cannot start any token",
            id="yaml-tab",
        ),
        pytest.param(
            rates("{input: !!python/name:os.system x}"),
            ":5:74: invalid YAML: could not determine a constructor",
            id="yaml-python-tag",
        ),
        pytest.param("", ": entries: expected a list of model entries, got nothing", id="empty-file"),
        pytest.param(
            "just words\n", ": entries: expected a list of model entries, got str", id="scalar-file"
        ),
        pytest.param(
            "version: 2026-01\n", ": missing 'models' (a list of model entries)", id="no-models-key"
        ),
        pytest.param(
            "version: x\nmodel: []\n",
            ": unknown key 'model'; did you mean 'models'?",
            id="top-level-key-typo",
        ),
    ],
)
def test_unreadable_price_file_is_one_line_naming_the_file(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "negotiated.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PricingError) as caught:
        PriceTable.load(extra_files=[path])
    assert str(caught.value).splitlines() == [str(caught.value)]
    assert str(caught.value).startswith(f"{path}{message}")


def test_a_missing_price_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(PricingError) as caught:
        PriceTable.load(extra_files=[tmp_path / "absent.yaml"])
    assert (
        str(caught.value) == f"{tmp_path / 'absent.yaml'}: cannot read price file: No such file or directory"
    )


def test_a_directory_as_a_price_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(PricingError) as caught:
        PriceTable.load(extra_files=[tmp_path])
    assert str(caught.value) == f"{tmp_path}: cannot read price file: Is a directory"


def test_the_first_bad_file_of_several_is_the_one_named(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(rates("{input: 1, output: 4}"), encoding="utf-8")
    bad.write_text(rates("{input: -1}"), encoding="utf-8")
    with pytest.raises(PricingError) as caught:
        PriceTable.load(extra_files=[good, bad])
    assert str(caught.value).startswith(f"{bad}: models[0].prices[0].standard.input: ")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(
            block("{effective_from: 2026-13-01, source: s, standard: {input: 1}}"),
            id="unquoted-impossible-date",
        ),
        pytest.param(
            HEAD.encode() + b"      - {effective_from: 2026-01-01, source: caf\xe9, standard: {input: 1}}\n",
            id="latin-1-file",
        ),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", id="binary-file"),
        pytest.param("models: " + "[" * 1000 + "]" * 1000 + "\n", id="nested-1000-deep"),
        pytest.param(
            block("!custom {effective_from: 2026-01-01, source: s, standard: {input: 1}}"), id="unknown-tag"
        ),
    ],
)
def test_undecodable_price_file_is_a_pricing_error(tmp_path: Path, content: str | bytes) -> None:
    path = tmp_path / "negotiated.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(PricingError, match=f"^{re.escape(str(path))}(:[0-9]+)*: "):
        PriceTable.load(extra_files=[path])


def test_a_duplicate_key_in_a_price_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "negotiated.yaml"
    path.write_text(rates("{input: 1, output: 4, input: 2}"), encoding="utf-8")
    with pytest.raises(PricingError, match=r"standard\.input"):
        PriceTable.load(extra_files=[path])


def test_a_control_character_in_a_price_file_is_one_line_naming_its_line(tmp_path: Path) -> None:
    path = tmp_path / "negotiated.yaml"
    path.write_text(rates("{input: 1}").replace("contract", "con\x00tract"), encoding="utf-8")
    with pytest.raises(PricingError) as caught:
        PriceTable.load(extra_files=[path])
    assert str(caught.value).splitlines() == [
        f"{path}:5:49: invalid YAML: unacceptable character #x0000: special characters are not allowed "
        "(remove it, or write it as an escape in a double-quoted string)"
    ]


def test_an_impossible_unquoted_date_names_its_key_path(tmp_path: Path) -> None:
    path = tmp_path / "negotiated.yaml"
    path.write_text(block("{effective_from: 2026-13-01, source: s, standard: {input: 1}}"), encoding="utf-8")
    with pytest.raises(PricingError) as caught:
        PriceTable.load(extra_files=[path])
    assert str(caught.value).startswith(
        f"{path}: models[0].prices[0].effective_from: '2026-13-01' is not a date"
    )


def test_every_duplicate_key_of_a_price_file_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "negotiated.yaml"
    path.write_text(
        HEAD.replace("model: acme-1\n", "model: acme-1\n    model: acme-2\n")
        + "      - {effective_from: 2026-01-01, source: s, standard: {input: 1, input: 2}}\n",
        encoding="utf-8",
    )
    with pytest.raises(PricingError) as caught:
        PriceTable.load(extra_files=[path])
    assert str(caught.value).splitlines() == [
        f"{path}: models[0].model: duplicate key at line 4 (first at line 3; keep one)",
        f"{path}: models[0].prices[0].standard.input: duplicate key at line 6 (first at line 6; keep one)",
    ]


# -- through the CLI ---------------------------------------------------------------------------

KEY_ENV = "SPEND_MONITOR_BAD_PRICES_KEY"
PROVIDER = f"providers:\n  - name: openai-prod\n    type: openai\n    api_key: ${{{KEY_ENV}}}\n"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(KEY_ENV, "sk-admin-bad-prices-test")
    monkeypatch.delenv("SPEND_MONITOR_CONFIG", raising=False)
    return tmp_path / "config.yaml"


def use_price_file(config: Path, prices: Path) -> None:
    """Write `config` as the provider plus `pricing.files: [prices]`."""
    config.write_text(PROVIDER + f"pricing:\n  files: ['{prices}']\n", encoding="utf-8")


def overrides(*entry_lines: str) -> str:
    """A config whose pricing.overrides list starts at line 7 with `entry_lines` (already indented)."""
    return PROVIDER + "pricing:\n  overrides:\n" + "".join(f"{line}\n" for line in entry_lines)


def entry(block_text: str) -> tuple[str, ...]:
    """One override entry for openai/acme-1 whose only price block (line 10) is `block_text`."""
    return ("    - provider: openai", "      model: acme-1", "      prices:", f"        - {block_text}")


# fmt: off
OVERRIDE_CASES: list[Any] = [
    pytest.param(entry("{effective_from: 2026-01-01, source: s, standard: {input: -2}}"), [(":10: pricing.overrides[0].prices[0].standard.input: ", "-2 is negative")], id="negative"),
    pytest.param(entry("{effective_from: 2026-01-01, source: s, standard: {input: 0.0000001}}"), [(":10: pricing.overrides[0].prices[0].standard.input: ", "has more than 6 decimals")], id="seven-decimals"),
    pytest.param(entry("{effective_from: 2026-01-01, standard: {input: 1}}"), [(":10: pricing.overrides[0].prices[0].source: ", "missing; cite where the price comes from")], id="missing-source"),
    pytest.param(entry("{source: s, standard: {input: 1}}"), [(":10: pricing.overrides[0].prices[0].effective_from: ", "missing; give the date")], id="missing-effective-from"),
    pytest.param(entry("{effective_from: soon, source: s, standard: {input: 1}}"), [(":10: pricing.overrides[0].prices[0].effective_from: ", "'soon' is not a date")], id="bad-date"),
    pytest.param(entry("{effective_from: 2026-01-01, source: s, standard: {outptu: 1}}"), [(":10: pricing.overrides[0].prices[0].standard.outptu: ", "unknown token type 'outptu'; did you mean 'output'?")], id="unknown-token-type"),
    pytest.param(
        entry("{effective_from: 2026-01-01, source: s, turbo: {input: 1}}"),
        [(":10: pricing.overrides[0].prices[0].turbo: ", "unknown key 'turbo'"), (":10: pricing.overrides[0].prices[0]: ", "no prices")],
        id="unknown-tier",
    ),
    pytest.param(
        (*entry("{effective_from: 2026-01-01, source: s, standard: {input: 1}}"), "        - {effective_from: 2026-01-01, source: t, standard: {input: 2}}"),
        [(":11: pricing.overrides[0].prices[1].effective_from: ", "2026-01-01 appears twice for acme-1")],
        id="duplicate-effective-date",
    ),
    pytest.param(("    - provider: openai", "      model: acme-1", "      prices: {standard: {input: 1}}"), [(":9: pricing.overrides[0].prices: ", "expected a non-empty list of dated price blocks")], id="prices-is-a-mapping"),
    pytest.param(("    - acme-1",), [(":7: pricing.overrides[0]: ", "expected a model entry (a mapping), got str")], id="entry-is-a-string"),
    pytest.param(("    - {model: acme-1, prices: [{effective_from: 2026-01-01, source: s, standard: {input: 1}}]}",), [(":7: pricing.overrides[0].provider: ", "missing")], id="missing-provider"),
]
# fmt: on


@pytest.mark.parametrize(("lines", "expected"), OVERRIDE_CASES)
def test_bad_price_override_fails_check_config_with_its_line(
    config: Path, capsys: pytest.CaptureFixture[str], lines: tuple[str, ...], expected: list[tuple[str, str]]
) -> None:
    config.write_text(overrides(*lines), encoding="utf-8")
    assert main(["check-config", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.splitlines()) == len(expected), err
    for where, fragment in expected:
        prefix = f"spend-monitor: error: {config}{where}"
        assert [line for line in err.splitlines() if line.startswith(prefix) and fragment in line], (
            prefix,
            err,
        )


@pytest.mark.parametrize(
    "lines",
    [
        pytest.param(("    - !custom {provider: openai}",), id="unknown-yaml-tag"),
        pytest.param(("    - !!python/object/apply:os.system ['true']",), id="python-tag"),
        pytest.param(
            entry("{effective_from: 2026-13-01, source: s, standard: {input: 1}}"),
            id="unquoted-impossible-date",
        ),
    ],
)
def test_an_override_yaml_cannot_construct_is_one_line(
    config: Path, capsys: pytest.CaptureFixture[str], lines: tuple[str, ...]
) -> None:
    config.write_text(overrides(*lines), encoding="utf-8")
    assert main(["check-config", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert err.startswith(f"spend-monitor: error: {config}:")


def test_a_duplicate_key_in_an_override_is_a_problem(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config.write_text(
        overrides(*entry("{effective_from: 2026-01-01, source: s, standard: {input: 1, input: 9}}")),
        encoding="utf-8",
    )
    assert main(["check-config", "--config", str(config)]) == 2
    assert "duplicate key" in capsys.readouterr().err


def test_a_bad_price_file_stops_the_report_command_with_exit_2(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prices = tmp_path / "negotiated.yaml"
    prices.write_text(rates("{input: 1.2.3}"), encoding="utf-8")
    use_price_file(config, prices)
    assert main(["report", "--config", str(config), "--month", "2026-01"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"spend-monitor: error: {prices}: models[0].prices[0].standard.input: '1.2.3' is not a number"
    ]


def test_check_config_rejects_a_bad_price_file(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prices = tmp_path / "negotiated.yaml"
    prices.write_text(rates("{input: -1}"), encoding="utf-8")
    use_price_file(config, prices)
    assert main(["check-config", "--config", str(config)]) == 2
    assert f"{prices}: models[0].prices[0].standard.input" in capsys.readouterr().err


def test_check_config_rejects_a_price_file_the_whole_table_refuses(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prices = tmp_path / "negotiated.yaml"
    prices.write_text(
        HEAD.replace("    prices:", "    cheaper: acme-0\n    prices:")
        + "      - {effective_from: 2026-01-01, source: s, standard: {input: 1}}\n",
        encoding="utf-8",
    )
    use_price_file(config, prices)
    assert main(["check-config", "--config", str(config)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"spend-monitor: error: {prices}: models[0].cheaper: 'acme-0' is not a openai model in the table"
    ]


def test_check_config_accepts_a_good_price_file_and_override(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prices = tmp_path / "negotiated.yaml"
    prices.write_text(rates("{input: 1, output: 4}"), encoding="utf-8")
    config.write_text(
        PROVIDER
        + f"pricing:\n  files: ['{prices}']\n  overrides:\n"
        + "\n".join(entry("{effective_from: 2026-02-01, source: s, standard: {input: 2}}"))
        + "\n",
        encoding="utf-8",
    )
    assert main(["check-config", "--config", str(config)]) == 0, capsys.readouterr().err


def test_a_recursive_alias_in_an_override_is_one_line(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config.write_text(PROVIDER + "pricing:\n  overrides: &loop [*loop]\n", encoding="utf-8")
    assert main(["check-config", "--config", str(config)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"spend-monitor: error: {config}:6: invalid YAML: a value contains an alias of itself "
        "(a recursive structure); write the values out"
    ]
