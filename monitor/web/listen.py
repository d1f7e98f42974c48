"""Where the web server listens and how: the listen address, and TLS from PEM files.

Light on purpose: the web child process (monitor.web.child) imports this module, so the config
package (and what it imports) is loaded only by `parse_listen`, which the child never calls.
"""

from __future__ import annotations

import os
import ssl

from monitor.errors import ConfigError

StrPath = str | os.PathLike[str]

WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 (detected to warn, not used to bind)


def parse_listen(listen: str) -> tuple[str, int]:
    """Split "HOST:PORT" or "[V6]:PORT" into (host, port) with the config's parser; port 0 picks a free port."""
    from monitor.config.values import Invalid  # noqa: PLC0415 (the config package is heavy; see above)
    from monitor.config.values import parse_listen as parse_listen_text  # noqa: PLC0415

    try:
        return parse_listen_text(listen)
    except Invalid:
        raise ConfigError(
            [f"listen: {listen!r} is not HOST:PORT; write e.g. 127.0.0.1:9877 or [::1]:9877"]
        ) from None


def tls_context(
    cert_file: StrPath | None, key_file: StrPath | None, key_path: str = "web"
) -> ssl.SSLContext | None:
    """A server SSLContext (TLS >= 1.2) from PEM files, or None when neither file is set."""
    if cert_file is None and key_file is None:
        return None
    if cert_file is None or key_file is None:
        raise ConfigError(
            [f"{key_path}.tls_cert_file and {key_path}.tls_key_file: set both, or neither for plain HTTP"]
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:  # an empty password: an encrypted key fails here instead of prompting on the terminal
        context.load_cert_chain(cert_file, key_file, password=lambda: b"")
    except (OSError, ssl.SSLError) as exc:
        why = getattr(exc, "reason", None) or exc.strerror or type(exc).__name__
        raise ConfigError(
            [
                f"{key_path}.tls_cert_file / {key_path}.tls_key_file: cannot load {os.fspath(cert_file)} "
                f"with {os.fspath(key_file)} ({why}); give a PEM certificate and its unencrypted PEM key"
            ]
        ) from None
    return context
