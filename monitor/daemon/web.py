"""The daemon's HTTP server: `/metrics` from the exposition, `/healthz` `/readyz` and `/` from the probes."""

from __future__ import annotations

from monitor.config import Config
from monitor.daemon.probes import Probes
from monitor.metrics import Exposition, MetricsServer


def build_server(
    config: Config, exposition: Exposition, probes: Probes, listen: str | None = None
) -> MetricsServer:
    """The metrics server for `config` (its `listen`, or `listen` when given), TLS and basic auth included."""
    return MetricsServer(
        listen or config.listen,
        exposition,
        health=probes.health,
        ready=probes.ready,
        landing=probes.status_page,
        tls_cert_file=config.web.tls_cert_file,
        tls_key_file=config.web.tls_key_file,
        basic_auth_users=config.web.basic_auth_users,
    )
