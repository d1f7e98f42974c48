"""`spend-monitor run`, `demo` and `backfill`: the long-running commands."""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from monitor.cli.config import add_config_argument, load
from monitor.config import Config
from monitor.daemon import Daemon
from monitor.errors import ConfigError
from monitor.records import UsagePage, pico_to_usd
from monitor.simulator import Simulator, azure_api
from monitor.simulator.core import (
    AZURE_CLIENT_SECRET,
    NEWAPI_ACCESS_TOKEN,
    NEWAPI_USER_ID,
    OPENROUTER_MANAGEMENT_KEY,
)
from monitor.store import Ledger
from monitor.store.progress import resume_point


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = subparsers.add_parser("run", help="run the daemon: poll providers, serve /metrics, send alerts")
    add_config_argument(run)
    run.add_argument("--listen", metavar="HOST:PORT", help="override the config's listen address")
    run.set_defaults(func=_run)

    demo = subparsers.add_parser(
        "demo", help="the daemon against the built-in simulated providers, no keys needed"
    )
    demo.add_argument("--listen", metavar="HOST:PORT", default="127.0.0.1:9877")
    demo.add_argument(
        "--db", metavar="PATH", default="./data/demo.db", help="SQLite ledger (default ./data/demo.db)"
    )
    demo.add_argument("--poll-interval", default="30s", help="how often the demo polls (default 30s)")
    demo.set_defaults(func=_demo)

    backfill = subparsers.add_parser("backfill", help="fetch and price history for a date range, resumably")
    add_config_argument(backfill)
    backfill.add_argument("--since", required=True, type=_day, metavar="YYYY-MM-DD")
    backfill.add_argument("--until", type=_day, metavar="YYYY-MM-DD", help="exclusive; default now")
    backfill.add_argument("--account", action="append", help="only these accounts (repeatable)")
    backfill.set_defaults(func=_backfill)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (expected YYYY-MM-DD)") from None


def _run(args: argparse.Namespace) -> int:
    config = load(args)
    return Daemon(config, listen=args.listen).run_forever()


DEMO_CONFIG = """\
# Written by `spend-monitor demo`: the daemon against the built-in simulator.
listen: "{listen}"
storage:
  path: "{db}"
providers:
  - name: openai-demo
    type: openai
    api_key: ${{SPEND_MONITOR_DEMO_OPENAI_KEY}}
    base_url: "{openai_url}"
    poll_interval: {interval}
  - name: anthropic-demo
    type: anthropic
    api_key: ${{SPEND_MONITOR_DEMO_ANTHROPIC_KEY}}
    base_url: "{anthropic_url}"
    poll_interval: {interval}
  - name: relay-demo
    type: newapi
    base_url: "{newapi_url}"
    access_token: ${{SPEND_MONITOR_DEMO_RELAY_TOKEN}}
    user_id: {newapi_user}
    poll_interval: {interval}
  - name: openrouter-demo
    type: openrouter
    api_key: ${{SPEND_MONITOR_DEMO_OPENROUTER_KEY}}
    base_url: "{openrouter_url}"
    poll_interval: {interval}
  - name: azure-demo
    type: azure_openai
    tenant_id: {azure_tenant}
    client_id: {azure_client}
    client_secret: ${{SPEND_MONITOR_DEMO_AZURE_SECRET}}
    subscription_id: {azure_subscription}
    resource_group: {azure_group}
    account: {azure_account}
    login_url: "{azure_login}"
    management_url: "{azure_management}"
    poll_interval: {interval}
balances:
  - {{account: relay-demo, below_usd: 480, runway_days: 30}}
  - {{account: openrouter-demo, below_usd: 100}}
budgets:
  - name: openai-monthly
    amount_usd: 650
    period: month
    scope: {{provider: openai}}
    thresholds: [50, 80, 100]
    forecast_thresholds: [100]
  - name: anthropic-monthly
    amount_usd: 6000
    period: month
    scope: {{provider: anthropic}}
  - name: channels-monthly
    amount_usd: 400
    period: month
    scope: {{provider: [newapi, openrouter, azure_openai]}}
  - name: all-daily
    amount_usd: 300
    period: day
metrics:
  include_api_key: true
  include_user: true
attribution:
  - match: {{provider: anthropic}}
    team: assistants
    cost_center: CC-200
  - match: {{provider: openai, project: "{first_project}"}}
    team: search
    cost_center: CC-100
"""


def _demo(args: argparse.Namespace) -> int:
    db = Path(args.db)
    db.parent.mkdir(parents=True, exist_ok=True)
    with Simulator(seed=0, late_buckets=True, revisions=True) as sim:
        config_path = db.parent / "demo-config.yaml"
        config_path.write_text(
            DEMO_CONFIG.format(
                listen=args.listen,
                db=db,
                openai_url=sim.openai_base_url,
                anthropic_url=sim.anthropic_base_url,
                newapi_url=sim.newapi_base_url,
                newapi_user=NEWAPI_USER_ID,
                openrouter_url=sim.openrouter_base_url,
                azure_tenant=azure_api.TENANT,
                azure_client=azure_api.CLIENT_ID,
                azure_subscription=azure_api.SUBSCRIPTION,
                azure_group=azure_api.RESOURCE_GROUP,
                azure_account=azure_api.ACCOUNT,
                azure_login=sim.azure_login_url,
                azure_management=sim.azure_management_url,
                interval=args.poll_interval,
                first_project=sim.project_ids("openai")[0],
            ),
            encoding="utf-8",
        )
        environ = dict(os.environ)
        environ["SPEND_MONITOR_DEMO_OPENAI_KEY"] = sim.openai_key
        environ["SPEND_MONITOR_DEMO_ANTHROPIC_KEY"] = sim.anthropic_key
        environ["SPEND_MONITOR_DEMO_RELAY_TOKEN"] = NEWAPI_ACCESS_TOKEN
        environ["SPEND_MONITOR_DEMO_OPENROUTER_KEY"] = OPENROUTER_MANAGEMENT_KEY
        environ["SPEND_MONITOR_DEMO_AZURE_SECRET"] = AZURE_CLIENT_SECRET
        config = load(args, config_path, environ=environ)
        print(f"simulator: {sim.url}", file=sys.stderr)
        print(f"ledger:    {db}", file=sys.stderr)
        print(f"metrics:   http://{args.listen}/metrics  (Ctrl-C to stop)", file=sys.stderr)
        return Daemon(config).run_forever()


_CENT = Decimal("0.01")


class Progress:
    """A one-line progress display: buckets done of total, rows and dollars so far."""

    def __init__(self, total_buckets: int, stream: TextIO | None = None) -> None:
        self.total = max(1, total_buckets)
        self.buckets = 0
        self.rows = 0
        self.cost_pico = 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last = 0.0

    def page(self, page: UsagePage, cost_pico: int) -> None:
        self.buckets += len(page.buckets)
        self.rows += len(page.rows)
        self.cost_pico += cost_pico
        now = time.monotonic()
        if self.tty or now - self._last >= 2.0:
            self._last = now
            self.show()

    def show(self, end: str = "") -> None:
        done = min(self.buckets, self.total)
        width = 30
        filled = width * done // self.total
        bar = "#" * filled + "-" * (width - filled)
        usd = pico_to_usd(self.cost_pico).quantize(_CENT)
        line = f"[{bar}] {done}/{self.total} buckets  {self.rows} rows  ${usd}"
        if self.tty:
            self.stream.write("\r" + line + end)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def _backfill(args: argparse.Namespace) -> int:
    config: Config = load(args)
    since = datetime(args.since.year, args.since.month, args.since.day, tzinfo=UTC)
    until = (
        datetime(args.until.year, args.until.month, args.until.day, tzinfo=UTC)
        if args.until
        else datetime.now(UTC)
    )
    if until <= since:
        raise ConfigError([f"--until {until.date()} must be after --since {since.date()}"])
    now = int(time.time())
    daemon = Daemon(config)
    accounts = args.account or list(daemon.pollers)
    unknown = sorted(set(accounts) - set(daemon.pollers))
    if unknown:
        raise ConfigError([f"--account: no provider named {', '.join(unknown)} in {args.config}"])
    start, end = int(since.timestamp()), min(int(until.timestamp()), now)
    failures = 0
    with Ledger.open(config.storage.path) as ledger:
        for account in accounts:
            poller = daemon.pollers[account]
            provider = poller.provider
            buckets = (end - start) // provider.bucket_width * len(provider.endpoints)
            progress = Progress(buckets)
            print(
                f"{account}: backfilling {since.date()} .. {(until - timedelta(seconds=1)).date()}",
                file=sys.stderr,
            )
            if provider.history_days is not None and start < now - provider.history_days * 86400:
                oldest = datetime.fromtimestamp(now - provider.history_days * 86400, UTC).date()
                print(
                    f"{account}: {provider.provider} keeps the last {provider.history_days} days only; "
                    f"usage before {oldest} cannot be fetched",
                    file=sys.stderr,
                )
            width = provider.bucket_width
            starts = {
                ep: resume_point(ledger, account, [ep], start=start, end=end, width=width)
                for ep in provider.endpoints
            }
            progress.buckets = sum((s - start) // width for s in starts.values())
            if progress.buckets:
                print(
                    f"{account}: resuming, {progress.buckets} buckets already in the ledger", file=sys.stderr
                )

            def window(endpoint: str, starts: dict[str, int] = starts) -> tuple[int, int]:
                return starts[endpoint], end

            result = poller.poll(ledger, now, window=window, on_page=progress.page)
            progress.show(end="\n")
            for outcome in result.endpoints:
                if not outcome.ok:
                    failures += 1
                    print(f"{account}/{outcome.endpoint}: {outcome.error}", file=sys.stderr)
            provider.close()
    return 1 if failures else 0
