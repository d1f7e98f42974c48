"""Rare name-escaping variants of a rendered exposition, derived from its default rendering.

A scraper may ask for another escaping of metric and label names ("dots", "values"). Our names
are all legacy Prometheus names, so the default (underscores) rendering holds them verbatim, and
a variant differs from it only in the names: `escape_names` rewrites them with prometheus_client's
own escaping functions, exactly where its encoders apply them, leaving HELP text and label values
(escaped the same way in every variant) untouched. So no snapshot has to be kept for the rare
client that asks (tests/test_metrics_exposition.py compares the result with prometheus_client's
encoders for every escaping).
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client.openmetrics import exposition as openmetrics

OPENMETRICS = "openmetrics"
_HEADERS = ("# HELP ", "# TYPE ", "# UNIT ")


def escape_names(body: str, fmt: str, escaping: str) -> str:
    """`body`, our exposition in `fmt` ("text" or "openmetrics") rendered with underscores escaping,
    with its metric and label names escaped as prometheus_client renders them with `escaping`."""
    metric_name = _memo(lambda name: str(openmetrics.escape_metric_name(name, escaping)))
    label_name = _memo(lambda name: str(openmetrics.escape_label_name(name, escaping)))
    sample_name = _memo(lambda name: _om_sample_name(name, escaping)) if fmt == OPENMETRICS else metric_name
    lines = body.split("\n")  # not splitlines(): label values may hold \r, \x1c or \u2028 verbatim
    for index, line in enumerate(lines):
        if not line:
            continue
        if line.startswith("#"):
            if line.startswith(_HEADERS):
                name, sep, rest = line[7:].partition(" ")
                lines[index] = line[:7] + metric_name(name) + sep + rest
            continue  # "# EOF"
        lines[index] = _sample_line(line, sample_name, label_name)
    return "\n".join(lines)


def _sample_line(line: str, sample_name: Callable[[str], str], label_name: Callable[[str], str]) -> str:
    """`name{label="value",...} value`: escape the name and the label names, keep the values as they are."""
    brace, space = line.find("{"), line.find(" ")
    if brace < 0 or 0 <= space < brace:
        return sample_name(line[:space]) + line[space:]
    parts = [sample_name(line[:brace]), "{"]
    i = brace + 1
    while line[i] != "}":
        equals = line.index('="', i)
        parts.append(label_name(line[i:equals]))
        j = line.index('"', equals + 2)
        while _escaped(line, j):  # label values escape only \\, \n and \" with a backslash
            j = line.index('"', j + 1)
        parts.append(line[equals : j + 1])
        i = j + 1
        if line[i] == ",":
            parts.append(",")
            i += 1
    parts.append(line[i:])
    return "".join(parts)


def _escaped(line: str, quote: int) -> bool:
    """True when the quote at `quote` is escaped: an odd run of backslashes precedes it."""
    start = quote
    while start > 0 and line[start - 1] == "\\":
        start -= 1
    return (quote - start) % 2 == 1


def _memo(escape: Callable[[str], str]) -> Callable[[str], str]:
    """`escape` remembered per name for one call: an exposition repeats a few dozen names 50,000 times."""
    seen: dict[str, str] = {}

    def memo(name: str) -> str:
        out = seen.get(name)
        if out is None:
            out = seen[name] = escape(name)
        return out

    return memo


def _om_sample_name(name: str, escaping: str) -> str:
    # openmetrics.generate_latest escapes sample names with _escape directly (unlike HELP and TYPE).
    return str(openmetrics._escape(name, escaping, openmetrics._is_legacy_labelname_rune))
