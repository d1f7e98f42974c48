"""`spend-monitor digest`: the digest of the last complete day, week or month, printed (and sent).

Prints exactly the text the daemon's digest sends. Without `--dry-run` it also queues the digest of
that period for the channels of the configured digest with that period, once (the same identity
as the daemon's: running it twice, or after the daemon sent it, sends nothing more), and delivers
it; `--dry-run` only prints.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from monitor.alerts import OutboxWorker, build_channels
from monitor.attribution import Attributor
from monitor.cli import output
from monitor.cli.budgets import engine_for
from monitor.cli.config import add_config_argument, load
from monitor.cli.output import EXIT_FAILURE, EXIT_OK
from monitor.cli.report import open_ledger
from monitor.config.model import DIGEST_PERIODS, WEEKDAYS, DigestConfig
from monitor.digests import DigestInputs, DigestScheduler
from monitor.digests.scheduler import key_of
from monitor.errors import ConfigError
from monitor.price_updates import cached_or_exported, configured_table
from monitor.store.alerts import AlertStore

DELIVERY_TIMEOUT_S = 60.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "digest",
        help="print (and send) the digest of the last complete day, week or month",
        description="Summarise the last complete period: spend against the one before, top movers, budgets "
        "near their limits, unpriced usage, savings found. Sends it through the configured digest's channels "
        "once per period, unless --dry-run.",
    )
    add_config_argument(parser)
    parser.add_argument("--period", required=True, choices=DIGEST_PERIODS, help="day, week or month")
    parser.add_argument(
        "--dry-run", action="store_true", help="only print the digest; queue and send nothing"
    )
    parser.set_defaults(func=_digest)


def _digest(args: argparse.Namespace) -> int:
    config = load(args)
    configured = next((d for d in config.digests if d.period == args.period), None)
    if configured is None and not args.dry_run:
        raise ConfigError(
            [
                f"--period {args.period}: no digests entry has period {args.period} "
                "(add one to the config to send it, or use --dry-run to print it)"
            ]
        )
    digest = configured or DigestConfig(args.period)
    table = configured_table(config.pricing, cached_or_exported(config))
    discounts = {p.name: p.discount_percent for p in config.providers}
    scheduler = DigestScheduler(
        config.digests,
        [c.name for c in config.alerts],
        DigestInputs(config.tz, Attributor(config.attribution), table, discounts=discounts),
        month_start_day=config.month_start_day,
        week_start=WEEKDAYS.index(config.week_start) if config.week_start in WEEKDAYS else 0,
    )
    now = datetime.now(UTC)
    bounds = scheduler.bounds(args.period, now)
    with open_ledger(config) as ledger:
        store = AlertStore(ledger)
        budgets = engine_for(config).statuses(ledger, store, now)
        sys.stdout.write(scheduler.build(ledger, digest, bounds, budgets).text)
        if args.dry_run:
            return EXIT_OK
        queued = scheduler.queue(ledger, store, digest, bounds, now, budgets=budgets)
        if not queued:
            print(
                f"the {digest.name} digest of this {args.period} was sent before; not sent again",
                file=sys.stderr,
            )
            return EXIT_OK
        OutboxWorker(store, build_channels(config.alerts)).deliver_until_idle(DELIVERY_TIMEOUT_S)
        key = key_of(digest, bounds[1])
        waiting = [e.channel for e in store.entries() if e.key == key and e.delivered_at is None]
    if waiting:
        output.error(f"the digest is still queued for {', '.join(waiting)}; the daemon's outbox will retry")
        return EXIT_FAILURE
    print(
        f"sent the {digest.name} digest to {', '.join(digest.channels or scheduler.channels)}",
        file=sys.stderr,
    )
    return EXIT_OK
