"""The SQLite ledger: usage rows by natural key, observations, cursors, cumulative totals and polls.

Only this package imports sqlite3 / sqlite-utils. Everything else goes through `Ledger`.
"""

from monitor.store.ledger import Ledger, PollRecord, WriteResult
from monitor.store.queries import DIMENSIONS, TIME_DIMENSIONS, Scope
from monitor.store.reprice import RepriceLine, RepriceResult

__all__ = [
    "DIMENSIONS",
    "TIME_DIMENSIONS",
    "Ledger",
    "PollRecord",
    "RepriceLine",
    "RepriceResult",
    "Scope",
    "WriteResult",
]
