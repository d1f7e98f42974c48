"""What both simulated APIs share on the wire: query parsing, bucket paging, cursors, JSON and drift.

Bucket paging follows provider-apis.md §1.3/§3.2: `limit` counts buckets (per-width default and
max), the first bucket is snapped down to its width's UTC boundary, and `next_page` is an opaque
cursor naming the next bucket start.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

WIDTHS = {"1m": 60, "1h": 3600, "1d": 86400}
LIMITS = {"1m": (60, 1440), "1h": (24, 168), "1d": (7, 31)}
"""Per bucket width: (default limit, maximum limit)."""

Query = Mapping[str, Sequence[str]]


class BadRequest(Exception):
    """A request the real API answers with 400; `param` names the offending parameter."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


@dataclass
class Reply:
    """An HTTP answer before encoding: `payload` is JSON-able (may hold `Raw`), or bytes as they are."""

    status: int
    payload: Any
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """One GET to a provider API, its path relative to the provider's base URL, seen at `now`.

    `fast` allows answering from pre-rendered bucket caches (off while a schema drift is applied).
    """

    path: str
    query: Query
    headers: Mapping[str, str]
    now: int
    fast: bool = True


@dataclass(frozen=True, slots=True)
class Raw:
    """Pre-encoded JSON inserted verbatim: cached result lists, and exact decimal numbers."""

    text: str


_RAW = re.compile(r'"\\u0000raw(\d+)\\u0000"')


def encode(payload: Any) -> bytes:
    """Compact JSON; `Raw` values are spliced in as they are (so 0.1234567890123 stays exact)."""
    raws: list[str] = []

    def placeholder(value: Any) -> str:
        if isinstance(value, Raw):
            raws.append(value.text)
            return f"\x00raw{len(raws) - 1}\x00"
        raise TypeError(f"not JSON serialisable: {type(value).__name__}")

    text = json.dumps(payload, separators=(",", ":"), default=placeholder)
    if raws:
        text = _RAW.sub(lambda m: raws[int(m.group(1))], text)
    return text.encode()


def decimal_text(value: Decimal) -> str:
    """A Decimal as plain digits without exponent or trailing zeros: Decimal("1.2300") -> "1.23"."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def first(query: Query, name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def multi(query: Query, name: str) -> list[str]:
    """An array parameter in bracket form (`name[]=a&name[]=b`) or repeated form (`name=a&name=b`)."""
    return [*query.get(f"{name}[]", ()), *query.get(name, ())]


def integer(query: Query, name: str, *, required: bool = False) -> int | None:
    text = first(query, name)
    if text is None or text == "":
        if required:
            raise BadRequest(f"'{name}' is required", name)
        return None
    try:
        return int(text)
    except ValueError:
        raise BadRequest(f"'{name}' must be an integer, got {text!r}", name) from None


def limit_of(query: Query, default: int, maximum: int) -> int:
    limit = integer(query, "limit")
    if limit is None:
        return default
    if not 1 <= limit <= maximum:
        raise BadRequest(
            f"'limit' must be between 1 and {maximum} for this bucket width, got {limit}", "limit"
        )
    return limit


def group_by(query: Query, allowed: Sequence[str]) -> set[str]:
    chosen = multi(query, "group_by")
    for name in chosen:
        if name not in allowed:
            raise BadRequest(f"invalid 'group_by' value {name!r}; allowed: {', '.join(allowed)}", "group_by")
    return set(chosen)


def rfc3339(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(query: Query, name: str, *, required: bool = False) -> int | None:
    text = first(query, name)
    if not text:
        if required:
            raise BadRequest(f"{name}: Field required", name)
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{name}: invalid RFC 3339 datetime {text!r}", name) from None
    if moment.tzinfo is None:
        raise BadRequest(f"{name}: datetime {text!r} must carry a timezone, e.g. 'Z'", name)
    return int(moment.timestamp())


def _cursor(start: int) -> str:
    return "page_" + base64.urlsafe_b64encode(f"sim:{start}".encode()).decode()


def _uncursor(token: str, first_start: int, width: int) -> int:
    try:
        text = base64.urlsafe_b64decode(token.removeprefix("page_").encode()).decode()
        start = int(text.removeprefix("sim:")) if text.startswith("sim:") else None
    except (binascii.Error, UnicodeDecodeError, ValueError):
        start = None
    if start is None or start < first_start or (start - first_start) % width:
        raise BadRequest("invalid 'page' cursor: pass next_page of the previous response unchanged", "page")
    return start


def page(query: Query, first_start: int, stop: int, width: int, limit: int) -> tuple[list[int], str | None]:
    """The bucket starts of this page (from the `page` cursor or `first_start`, before `stop`) and the
    cursor of the next page, or None when this page reaches `stop`."""
    token = first(query, "page")
    begin = first_start if not token else _uncursor(token, first_start, width)
    starts = list(range(begin, stop, width)[:limit])
    following = begin + limit * width
    return starts, (_cursor(following) if following < stop else None)


# ---- schema drift ---------------------------------------------------------------------------------------

DRIFTS = ("schema-drift-unknown-fields", "schema-drift-missing-optional", "schema-drift-nulls")
_REQUIRED = {
    "organization.usage.completions.result": {
        "object",
        "input_tokens",
        "output_tokens",
        "num_model_requests",
    },
    "organization.usage.embeddings.result": {"object", "input_tokens", "num_model_requests"},
    "organization.costs.result": {"object", "amount"},
}


def _zero(value: Any) -> bool:
    return type(value) is int and value == 0


def _drift_result(row: dict[str, Any], kind: str) -> dict[str, Any]:
    required = _REQUIRED.get(row.get("object", ""), set())
    out: dict[str, Any] = {}
    for key, value in row.items():
        optional = key not in required
        all_zero = isinstance(value, dict) and value and all(_zero(v) for v in value.values())
        if (
            kind == "schema-drift-missing-optional"
            and optional
            and (value is None or _zero(value) or all_zero)
        ):
            continue
        nulled = kind == "schema-drift-nulls" and optional and (_zero(value) or all_zero)
        out[key] = None if nulled else value
    if kind == "schema-drift-unknown-fields":
        out["sim_unknown_field"] = {"nested": [1, "two", None]}
        out["sim_unknown_tokens"] = 7
    return out


def drift(payload: Any, kind: str) -> Any:
    """A usage/cost page with the given schema drift. Values are preserved: missing-optional drops only
    fields that are null or zero, nulls nulls only zero counts, so a lenient parser reads the same totals."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        return payload
    buckets = []
    for original in payload["data"]:
        bucket = {**original, "results": [_drift_result(r, kind) for r in original["results"]]}
        if kind == "schema-drift-unknown-fields":
            bucket["sim_bucket_annotation"] = {"source": "simulator"}
        buckets.append(bucket)
    page_out = {**payload, "data": buckets}
    if kind == "schema-drift-unknown-fields":
        page_out["sim_request_id"] = "req_sim_drift"
        page_out["sim_warnings"] = []
    return page_out
