"""The SQLite ledger: usage rows by natural key, observations, cursors, cumulative totals and polls.

Only this package imports sqlite3 / sqlite-utils and holds SQL. Everything else goes through `Ledger`
(and the sibling stores `BilledStore` and `AlertStore`), whose reads stream typed rows.
"""

from monitor.store.ledger import Ledger, WriteResult
from monitor.store.queries import DIMENSIONS, TIME_DIMENSIONS, Scope
from monitor.store.reads import PollRecord
from monitor.store.reprice import RepriceLine, RepriceResult
from monitor.store.totals import KeyTotals

__all__ = [
    "DIMENSIONS",
    "TIME_DIMENSIONS",
    "KeyTotals",
    "Ledger",
    "PollRecord",
    "RepriceLine",
    "RepriceResult",
    "Scope",
    "WriteResult",
]
