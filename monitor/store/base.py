"""What the sibling stores (billed cost, alerts, backfill progress) need from `Ledger`: its database
and its transactions. A protocol, so those modules need not import `ledger.py` (which imports them
for their migration sets, through `connection.py`)."""

from __future__ import annotations

import contextlib
from typing import Any, Protocol

import sqlite_utils


class LedgerLike(Protocol):
    """The parts of `monitor.store.Ledger` a sibling store uses."""

    @property
    def db(self) -> sqlite_utils.Database: ...

    def transaction(self) -> contextlib.AbstractContextManager[Any]: ...
