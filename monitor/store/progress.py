"""Where an interrupted backfill resumes: the first bucket of a range not yet observed.

Backfill writes pages in time order, each with its observations in one transaction, so the
observed buckets of a range form a prefix; resuming from its end refetches at most one page.
"""

from __future__ import annotations

from collections.abc import Sequence

from monitor.store.base import LedgerLike


def resume_point(
    ledger: LedgerLike, account: str, endpoints: Sequence[str], *, start: int, end: int, width: int
) -> int:
    """The earliest bucket start in [start, end) that some endpoint has not observed yet (or `end`)."""
    resume = end
    for endpoint in endpoints:
        rows = ledger.db.execute(
            "SELECT bucket_start FROM observations WHERE account = ? AND endpoint = ? AND bucket_width = ? "
            "AND bucket_start >= ? AND bucket_start < ?",
            [account, endpoint, width, start, end],
        ).fetchall()
        observed = {int(r[0]) for r in rows}
        bucket = start - start % width
        while bucket < end and bucket in observed:
            bucket += width
        resume = min(resume, bucket)
    return max(start - start % width, resume)
