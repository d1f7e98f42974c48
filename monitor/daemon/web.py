"""The daemon's HTTP server: `/metrics` from the exposition, `/healthz` `/readyz` and `/` from the
probes, served by a process of its own (monitor.web.process) that is handed each new state."""

from __future__ import annotations

from monitor.config import Config
from monitor.daemon.probes import Probes
from monitor.metrics import Exposition
from monitor.metrics.exposition import negotiate
from monitor.web.process import WebProcess


def build_server(
    config: Config, exposition: Exposition, probes: Probes, listen: str | None = None
) -> WebProcess:
    """The web process for `config` (its `listen`, or `listen` when given), TLS and basic auth
    included, fed by `exposition` and `probes` from now on."""
    server = WebProcess(
        listen or config.listen,
        exposition,
        negotiate=negotiate,
        health=probes.health,
        ready=probes.ready,
        landing=probes.status_page,
        tls_cert_file=config.web.tls_cert_file,
        tls_key_file=config.web.tls_key_file,
        basic_auth_users=config.web.basic_auth_users,
    )
    exposition.on_publish(server.exposition_changed)
    probes.on_change(server.probes_changed)
    return server
