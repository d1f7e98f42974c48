"""The exposition encoded straight from the series, in both formats, in chunks.

prometheus_client's encoders need a Metric holding a Sample (with its own labels dict) per series:
for ~50,000 ledger series that is ~40 MB built and dropped on every refresh, which fragments the
heap. `encode` writes the ledger families' lines itself, in the same bytes as prometheus_client's
text (0.0.4) and OpenMetrics 1.0 encoders with the default (underscores) name escaping, a few
thousand lines at a time, and hands the small fixed metrics (budgets, self-metrics) to
prometheus_client. tests/test_metrics_text.py checks the bytes against generate_latest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import exposition as text_format
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics import exposition as openmetrics
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from monitor.metrics.collector import Prepared, sample_value
from monitor.metrics.series import Family

Sink = Callable[[bytes], object]
CHUNK_LINES = 2_000
_ESCAPING = openmetrics.UNDERSCORES
_go_float: Callable[[float], str] = floatToGoString


def encode(prepared: Prepared, text: Sink, om: Sink) -> None:
    """Write `prepared` to `text` (Prometheus text 0.0.4) and `om` (OpenMetrics 1.0), in order."""
    label_values: dict[str, str] = {}
    for family in prepared.ledger:
        _family(family, text, om, label_values)
    fixed = _Fixed(prepared.fixed)
    text(text_format.generate_latest(fixed, escaping=_ESCAPING))
    om(openmetrics.generate_latest(fixed, escaping=_ESCAPING))  # type: ignore[no-untyped-call]


class _Fixed(Collector):
    def __init__(self, metrics: list[Metric]) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return iter(self.metrics)


def _family(family: Family, text: Sink, om: Sink, label_values: dict[str, str]) -> None:
    """HELP, TYPE and sample lines of one family, as CounterMetricFamily or GaugeMetricFamily
    rendered by each encoder (counters: the family is named without `_total`, the samples with it)."""
    name = family.name.removesuffix("_total") if family.kind == "counter" else family.name
    sample = name + "_total" if family.kind == "counter" else name
    doc = family.doc.replace("\\", r"\\").replace("\n", r"\n")
    text_name = _metric_name(sample)  # the text format names a counter family by its samples
    text(f"# HELP {text_name} {doc}\n# TYPE {text_name} {family.kind}\n".encode())
    om_doc = doc.replace('"', r"\"")
    om(f"# HELP {_metric_name(name)} {om_doc}\n# TYPE {_metric_name(name)} {family.kind}\n".encode())
    text_sample = _metric_name(sample)
    om_sample = str(openmetrics._escape(sample, _ESCAPING, openmetrics._is_legacy_labelname_rune))
    # Labels are written sorted by name, as both encoders sort a sample's labels dict.
    order = sorted(range(len(family.labels)), key=lambda i: family.labels[i])
    names = [str(openmetrics.escape_label_name(family.labels[i], _ESCAPING)) for i in order]
    lines: list[str] = []
    for key in sorted(family.values):
        if order:
            pairs = ",".join(
                f'{n}="{_label_value(key[i], label_values)}"' for n, i in zip(names, order, strict=True)
            )
            labels = "{" + pairs + "}"
        else:
            labels = ""
        lines.append(f"{labels} {_go_float(sample_value(family, family.values[key]))}\n")
        if len(lines) == CHUNK_LINES:
            _flush(lines, text_sample, om_sample, text, om)
    _flush(lines, text_sample, om_sample, text, om)


def _flush(lines: list[str], text_sample: str, om_sample: str, text: Sink, om: Sink) -> None:
    """Write the buffered sample lines (labels and value, without the name) and empty the buffer."""
    if not lines:
        return
    chunk = (text_sample + text_sample.join(lines)).encode()
    text(chunk)
    om(chunk if om_sample == text_sample else (om_sample + om_sample.join(lines)).encode())
    lines.clear()


def _metric_name(name: str) -> str:
    return str(openmetrics.escape_metric_name(name, _ESCAPING))


def _label_value(value: str, seen: dict[str, str]) -> str:
    """A label value escaped as both encoders do (\\, newline and " get a backslash), remembered:
    providers, accounts and models repeat across thousands of series."""
    escaped = seen.get(value)
    if escaped is None:
        escaped = seen[value] = value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
    return escaped
