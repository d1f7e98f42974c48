"""The long-running daemon: the poll cycle, its scheduler, delivery, probes and HTTP server
(see monitor/daemon/app.py for the map, docs/architecture.md for the wiring points)."""

from monitor.daemon.app import Daemon

__all__ = ["Daemon"]
