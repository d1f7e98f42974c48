"""Building the configured channels: one `Notifier` per `alerts:` entry, keyed by its unique name."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.alerts.alertmanager import AlertmanagerNotifier
from monitor.alerts.notification import Notifier
from monitor.alerts.webhook import WebhookNotifier
from monitor.config import AlertChannelConfig
from monitor.errors import ConfigError


def build_channel(cfg: AlertChannelConfig) -> Notifier:
    """The notifier for one channel config (secrets revealed only into the channel object)."""
    if cfg.type == "alertmanager":
        return AlertmanagerNotifier(cfg.name, cfg.url.reveal(), timeout=cfg.timeout, headers=cfg.headers)
    if cfg.type == "webhook":
        secret = cfg.secret.reveal() if cfg.secret is not None else None
        return WebhookNotifier(
            cfg.name, cfg.url.reveal(), secret=secret, timeout=cfg.timeout, headers=cfg.headers
        )
    if cfg.type == "apprise":
        # apprise (with markdown and its plugin machinery) costs the daemon ~2 MB of memory
        # for good: imported only when a channel uses it.
        from monitor.alerts.apprise_channel import AppriseNotifier  # noqa: PLC0415

        return AppriseNotifier(cfg.name, cfg.url.reveal())
    raise ConfigError(
        [f"alerts: channel {cfg.name!r}: unknown type {cfg.type!r}; use alertmanager, webhook or apprise"]
    )


def build_channels(configs: Sequence[AlertChannelConfig]) -> dict[str, Notifier]:
    """All channels by name; ConfigError listing every problem (duplicate names, bad apprise URLs)."""
    channels: dict[str, Notifier] = {}
    problems: list[str] = []
    for index, cfg in enumerate(configs):
        if cfg.name in channels:
            problems.append(
                f"alerts[{index}].name: {cfg.name!r} is used twice; give each channel a unique name"
            )
            continue
        try:
            channels[cfg.name] = build_channel(cfg)
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return channels
