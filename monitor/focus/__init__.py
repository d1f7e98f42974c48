"""The FOCUS export: a month of the ledger as a FinOps Open Cost and Usage Specification 1.2 CSV.

`focus_rows` builds the rows (monitor.focus.rows), `write_csv` writes them with the columns of
monitor.focus.columns. `spend-monitor export --format focus --month YYYY-MM` is the command.
"""

from monitor.focus.columns import COLUMNS, FOCUS_VERSION
from monitor.focus.rows import FocusInputs, focus_rows, write_csv

__all__ = ["COLUMNS", "FOCUS_VERSION", "FocusInputs", "focus_rows", "write_csv"]
