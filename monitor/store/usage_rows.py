"""Usage rows to and from SQL: the upsert that never lets an older observation overwrite a newer
one and its parameters, primary-key values for keyset pagination, and rows read back as UsageRow.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from monitor.records import TOKEN_TYPES, PricedRow, UsageRow
from monitor.store.ledger_columns import (
    PK_COLUMNS,
    TOK_COLUMNS,
    USAGE_COLUMNS,
    USAGE_KEY,
    VALUE_COLUMNS,
    quote,
)

_q = quote


def upsert_sql() -> str:
    """INSERT ... ON CONFLICT(natural key) DO UPDATE, applied only when not older than the stored row."""
    updates = ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in VALUE_COLUMNS)
    return (
        f"INSERT INTO usage ({', '.join(_q(c) for c in USAGE_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(USAGE_COLUMNS))}) "
        f"ON CONFLICT ({', '.join(_q(c) for c in PK_COLUMNS)}) DO UPDATE SET {updates} "
        "WHERE excluded.observed_at >= usage.observed_at"
    )


def units_json(units: tuple[tuple[str, int], ...]) -> str | None:
    """`units` as a JSON object; None when there are none (the common case)."""
    return json.dumps(dict(units), sort_keys=True) if units else None


def usage_params(priced: Sequence[PricedRow], observed_at: int) -> list[tuple[Any, ...]]:
    """Parameter tuples for `upsert_sql`, built with as little per-row Python work as possible."""
    params: list[tuple[Any, ...]] = []
    append = params.append
    for p in priced:
        u = p.usage
        append(
            (
                u.provider,
                *u.key,
                *u.tokens,
                u.requests,
                units_json(u.units),
                *p.costs,
                p.unit_cost,
                p.price_id,
                p.price_source or None,
                p.unpriced_tokens,
                observed_at,
            )
        )
    return params


def pk_of(row: UsageRow) -> tuple[Any, ...]:
    """The primary-key values of a row (PK_COLUMNS order), e.g. for keyset pagination."""
    return (
        row.bucket_start,
        row.account,
        row.endpoint,
        row.bucket_width,
        row.project,
        row.api_key,
        row.user,
        row.model,
        row.service_tier,
        int(row.batch),
        row.context_window,
        row.inference_geo,
    )


FIRST_BUCKET = -(2**62)
"""Below any unix time: the `since` of "everything"."""


def key_before(bucket_start: int) -> tuple[Any, ...]:
    """A key (pk_of order) below every real key whose bucket starts at or after `bucket_start`:
    where keyset pagination from `bucket_start` begins, seeking straight to it."""
    return (bucket_start, "", "", -1, *("",) * 5, -1, "", "")


PK_AFTER = f"({', '.join(_q(c) for c in PK_COLUMNS)}) > ({', '.join('?' * len(PK_COLUMNS))})"
"""Rows after a key (bind pk_of(...)): keyset pagination over the primary key."""

ROW_COLUMNS: tuple[str, ...] = ("provider", *USAGE_KEY, *TOK_COLUMNS, "requests", "units", "price_id")
"""The columns `usage_row` reads back (SELECT them in this order)."""
ROW_SELECT = ", ".join(_q(c) for c in ROW_COLUMNS)

_N_TOK = len(TOKEN_TYPES)
_N_KEY = len(USAGE_KEY) + 1  # with provider


def usage_row(values: Sequence[Any]) -> tuple[UsageRow, str | None]:
    """A UsageRow (and its stored price_id) from a row of ROW_COLUMNS."""
    units_text = values[-2]
    units: tuple[tuple[str, int], ...] = tuple(sorted(json.loads(units_text).items())) if units_text else ()
    provider, account, endpoint, start, width, project, api_key, user, model, tier, batch, cw, geo = values[
        :_N_KEY
    ]
    row = UsageRow(
        provider,
        account,
        endpoint,
        start,
        width,
        project,
        api_key,
        user,
        model,
        tier,
        bool(batch),
        cw,
        tuple(values[_N_KEY : _N_KEY + _N_TOK]),
        values[_N_KEY + _N_TOK],
        units,
        inference_geo=geo,
    )
    return row, values[-1]
