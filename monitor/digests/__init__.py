"""Digests: a period's spend summarised for people, sent once per period through the alert outbox.

`build_digest` makes the text (monitor.digests.build); `DigestScheduler` decides when a digest is due
and queues it exactly once per period (monitor.digests.scheduler). `spend-monitor digest` prints the
same text.
"""

from monitor.digests.build import Digest, DigestInputs, build_digest
from monitor.digests.scheduler import DIGEST_KIND, DigestScheduler, summarised_bounds

__all__ = [
    "DIGEST_KIND",
    "Digest",
    "DigestInputs",
    "DigestScheduler",
    "build_digest",
    "summarised_bounds",
]
