"""Secrets out of every log line: `redact` for text this package writes, and `SecretFilter` on the root
log handlers for the lines of any library (httpx, urllib3 under apprise, apprise itself).

The filter is fed every configured secret (`install`): provider keys, webhook secrets, alert channel
URLs and header values. A URL's tokens are often logged piecemeal (urllib3 logs only the path of
`https://hooks.slack.com/services/T0/B0/XYZ`), so `url_parts` adds each part of a URL that could be a
token; a secret containing separators (a comma in a key file) is also redacted piece by piece.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote, urlsplit

REDACTED = "[redacted]"
MIN_PART = 6
"""Shorter pieces of a secret (path segments like `api`, `v2`) are too common to redact everywhere."""

_HEADER_VALUE = re.compile(r"(?i)\b(bearer\s+|x-api-key[\"']?\s*[:=]\s*[\"']?)[^\s\"'<>]+")
_KEY_LIKE = re.compile(r"\bsk-[A-Za-z0-9_,;.+/=-]{8,}")
_SEPARATORS = re.compile(r"[\s,;]+")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every given secret, Bearer token, x-api-key value and `sk-...` key replaced."""
    for secret in sorted(pieces(secrets), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _HEADER_VALUE.sub(lambda m: m.group(1) + REDACTED, text)
    return _KEY_LIKE.sub(REDACTED, text)


def pieces(secrets: Iterable[str]) -> set[str]:
    """Each secret, and each long enough piece of it between separators (space, comma, semicolon):
    a provider that splits a header value at a comma may echo only its tail."""
    found: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        found.add(secret)
        found.update(p for p in _SEPARATORS.split(secret) if len(p) >= MIN_PART)
    return found


def token_like(text: str) -> bool:
    """Whether a piece of a URL may be a token: 6+ characters with a digit, or 12+ of any kind.
    Words like `apprise`, `services` or `hooks` are left readable in the logs."""
    return len(text) >= MIN_PART and (any(c.isdigit() for c in text) or len(text) >= 12)


def url_parts(url: str) -> set[str]:
    """The URL and each piece of it that may be a token: the password, and a user, a host (apprise
    hosts are often tokens: `slack://TokenA/...`), path segments and query values that look like one."""
    found = {url}
    try:
        parts = urlsplit(url)
        user, password, host = parts.username, parts.password, parts.hostname
    except ValueError:
        return found
    if password:
        found.add(password)
    names = [user]
    if parts.scheme not in ("http", "https") and host and "." not in host and ":" not in host:
        names.append(host)
    names.extend(unquote(segment) for segment in parts.path.split("/"))
    names.extend(value for _, value in parse_qsl(parts.query, keep_blank_values=False))
    found.update(n for n in names if n and token_like(n))
    return found


class SecretFilter(logging.Filter):
    """Rewrites each record's message (and traceback) without the registered secrets."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def add(self, secrets: Iterable[str]) -> None:
        with self._lock:
            merged = set(self._secrets) | pieces(secrets)
            self._secrets = tuple(sorted(merged, key=len, reverse=True))

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler's own error path
            return True
        cleaned = redact(message, self._secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self._secrets)
        return True


FILTER = SecretFilter()


def install(secrets: Iterable[str], logger: logging.Logger | None = None) -> None:
    """Redact `secrets` from every record that reaches the handlers of `logger` (the root logger)."""
    FILTER.add(secrets)
    for handler in (logger or logging.getLogger()).handlers:
        if FILTER not in handler.filters:
            handler.addFilter(FILTER)
