"""Azure Monitor metrics (api-version 2023-10-01) of an Azure OpenAI resource, as the adapter reads them:
hourly totals per deployment of the prompt, generated-token and request metrics.
Facts: docs/providers.md, "Azure OpenAI" (shared/channel-apis.md §3.2).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from monitor.providers.payload import Fields, read_instant

VERSION = "2023-10-01"
HOUR = 3600
METRICS: dict[str, str] = {
    "ProcessedPromptTokens": "input",
    "GeneratedTokens": "output",
    "AzureOpenAIRequests": "",
}
"""REST metric name -> token type ("" = requests). `ProcessedInferenceTokens` is only a display name."""


def metric_counts(f: Fields, body: dict[str, Any], a: int, b: int) -> dict[tuple[int, str], dict[str, int]]:
    """(hour, deployment) -> {"input", "output", "" (requests)} of the points in [a, b) of a metrics answer.

    A metric whose `errorCode` is not `Success` inside the 200 fails the page; points outside [a, b)
    belong to another page and are skipped; a point without `total` is an hour without use.
    """
    counts: dict[tuple[int, str], dict[str, int]] = {}
    for i, raw in enumerate(f.items(body, "value", "")):
        where = f"value[{i}]"
        metric = f.obj(raw, where)
        name = f.text(f.obj(metric.get("name"), f"{where}.name"), "value", f"{where}.name")
        if metric.get("errorCode", "Success") != "Success":
            problem = f.text(metric, "errorMessage", where) or f.text(metric, "errorCode", where)
            raise f.error(where, f"Azure Monitor could not read {name}: {problem}")
        kind = METRICS.get(name)
        if kind is None:
            continue
        for j, raw_series in enumerate(f.items(metric, "timeseries", where)):
            at_series = f"{where}.timeseries[{j}]"
            series = f.obj(raw_series, at_series)
            deployment = _dimension(f, series, "modeldeploymentname", at_series)
            for k, raw_point in enumerate(f.items(series, "data", at_series)):
                spot = f"{at_series}.data[{k}]"
                point = f.obj(raw_point, spot)
                at = read_instant(f, point, "timeStamp", spot)
                if not a <= at < b:
                    continue
                if at % HOUR:
                    raise f.error(f"{spot}.timeStamp", f"{at} is not on an hour")
                slot = counts.setdefault((at, deployment), {"input": 0, "output": 0, "": 0})
                slot[kind] += _whole(f, point.get("total"), f"{spot}.total")
    return counts


def _dimension(f: Fields, series: dict[str, Any], name: str, where: str) -> str:
    """A timeseries' dimension value; Azure lower-cases dimension names, so compare without case."""
    for i, raw in enumerate(f.items(series, "metadatavalues", where)):
        meta = f.obj(raw, f"{where}.metadatavalues[{i}]")
        label = f.obj(meta.get("name"), f"{where}.metadatavalues[{i}].name")
        if f.text(label, "value", where).lower() == name:
            return f.text(meta, "value", f"{where}.metadatavalues[{i}]")
    raise f.error(where, f"the series has no {name} dimension")


def _whole(f: Fields, value: Any, where: str) -> int:
    """A metric total: a double that must be a whole count; missing (no data in the hour) is 0."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | Decimal) or value < 0 or value != int(value):
        raise f.error(where, f"expected a whole count, got {value!r:.40}")
    return f.count({"n": int(value)}, "n", where)
