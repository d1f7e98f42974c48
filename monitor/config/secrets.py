"""Every secret a loaded config holds, for the log filter that keeps them out of every log line.

Provider keys and every secret option of a channel type (access tokens, client secrets), webhook secrets, alert channel URLs (whole and in the pieces a library may log:
urllib3 logs only the path of a Slack webhook) and channel header values (often tokens).
"""

from __future__ import annotations

from monitor.config.model import Config, Secret
from monitor.redaction import url_parts


def secret_values(config: Config) -> set[str]:
    """The secret strings of `config`, revealed only to be redacted."""
    found: set[str] = set()
    for provider in config.providers:
        if provider.api_key is not None:
            found.add(provider.api_key.reveal())
        found.update(value.reveal() for value in provider.options.values() if isinstance(value, Secret))
    for channel in config.alerts:
        found |= url_parts(channel.url.reveal())
        if channel.secret is not None:
            found.add(channel.secret.reveal())
        found.update(value for value in channel.headers.values() if len(value) >= 6)
    return {value for value in found if value}
