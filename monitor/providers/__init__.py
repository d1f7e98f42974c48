"""Provider adapters: the `Provider` seam (base.py), one module per provider or channel, and the
registry that maps a config `type` to its adapter and config keys (registry.py).

Re-exports only; adapters import `base`, never this package.
"""

from monitor.providers.base import (
    BUCKET_LIMITS,
    BUCKET_SECONDS,
    Provider,
    align_down,
    align_up,
    build_page,
    merge_rows,
    read_buckets,
)
from monitor.providers.http import ApiStats
from monitor.providers.registry import TYPE_NAMES, TYPES, make_provider, option_of, provider_type

__all__ = [
    "BUCKET_LIMITS",
    "BUCKET_SECONDS",
    "TYPES",
    "TYPE_NAMES",
    "ApiStats",
    "Provider",
    "align_down",
    "align_up",
    "build_page",
    "make_provider",
    "merge_rows",
    "option_of",
    "provider_type",
    "read_buckets",
]
