"""Parsers for the scalar syntaxes a config uses: durations, HOST:PORT, URLs, names, bcrypt hashes.

Each raises `Invalid(what, fix)`; `what` may hold a `{value}` placeholder that the loader fills with
the offending text, or with a neutral phrase when the text is a secret or came from a reference.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit


class Invalid(ValueError):
    """A value that does not parse: `what` is wrong, `fix` says what is expected instead."""

    def __init__(self, what: str, fix: str) -> None:
        self.what = what
        self.fix = fix
        super().__init__(self.render("the value"))

    def render(self, value: str) -> str:
        """The one-line message with `{value}` replaced (plain replace: values may contain braces)."""
        return f"{self.what.replace('{value}', value)} ({self.fix})"


_DURATION = re.compile(r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_DURATION_UNITS = (604800, 86400, 3600, 60, 1)
_SECONDS = re.compile(r"\d+(?:\.\d+)?")
DURATION_HINT = "expected a duration like 30s, 5m, 1h30m, 2d or a number of seconds"


def parse_duration(text: str) -> float:
    """'30s', '5m', '1h30m', '2d', '1w' or a plain number of seconds ('300', '2.5') -> seconds."""
    text = text.strip()
    if _SECONDS.fullmatch(text):
        return float(text)
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        raise Invalid("{value} is not a duration", DURATION_HINT)
    return float(sum(int(n) * unit for n, unit in zip(match.groups(), _DURATION_UNITS, strict=True) if n))


def parse_decimal(text: str) -> Decimal:
    """An exact decimal from the YAML text ('500.10' stays 500.10: never through float)."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise Invalid("{value} is not a number", "expected a decimal number like 500 or 12.50") from None
    if not value.is_finite():
        raise Invalid("{value} is not a finite number", "expected a decimal number like 500 or 12.50")
    return value


def parse_int(text: str) -> int:
    """A whole number from the YAML text ('1_000' allowed, as YAML allows it)."""
    try:
        return int(text.strip())
    except ValueError:
        raise Invalid("{value} is not a whole number", "expected an integer like 5") from None


_BOOLS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


def parse_bool(text: str) -> bool:
    """YAML's booleans (true/false, yes/no, on/off), in any case."""
    try:
        return _BOOLS[text.strip().lower()]
    except KeyError:
        raise Invalid("{value} is not a boolean", "expected true or false") from None


_HOSTNAME = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
_LISTEN = re.compile(r"\[(?P<v6>[^\]]*)\]:(?P<v6port>[^:]*)|(?P<host>[^:\[\]]*):(?P<port>[^:]*)")
LISTEN_HINT = "expected HOST:PORT like 127.0.0.1:9877, 0.0.0.0:9877 or [::1]:9877"


def parse_listen(text: str) -> tuple[str, int]:
    """'HOST:PORT' or '[IPv6]:PORT' -> (host, port), the host without brackets; port 0..65535, where 0
    means any free port (the server logs the one it got). The one parser of listen addresses: the
    config's `listen`, `--listen` and the metrics server all use it."""
    match = _LISTEN.fullmatch(text.strip())
    if match is None:
        raise Invalid("{value} is not HOST:PORT", LISTEN_HINT)
    if match["v6"] is not None:
        host, port_text = match["v6"], match["v6port"]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise Invalid("{value} has an invalid IPv6 address", LISTEN_HINT) from None
    else:
        host, port_text = match["host"], match["port"]
        if not _HOSTNAME.fullmatch(host):
            raise Invalid("{value} has no valid host", LISTEN_HINT)
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise Invalid(
            "{value} has an invalid port", "the port must be a number from 0 to 65535, 0 for any free one"
        )
    return host, int(port_text)


def check_http_url(text: str) -> str:
    """An http(s) URL with a host; returns it without trailing slashes."""
    fix = "expected an http:// or https:// URL with a host, like https://api.example.com/v1"
    try:
        parts = urlsplit(text)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        raise Invalid("{value} is not a valid URL", fix) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok or re.search(r"\s", text):
        raise Invalid("{value} is not an http(s) URL", fix)
    return text.rstrip("/")


def check_provider_url(text: str) -> str:
    """A provider `base_url`: an http(s) URL without `user:password@`.

    Credentials in the URL would travel outside the redacted headers (httpx logs request URLs), so
    they are refused; the message never quotes the URL, which would quote the password.
    """
    url = check_http_url(text)
    if "@" in urlsplit(url).netloc:
        raise Invalid(
            "the URL carries credentials (user:password@ before the host)",
            "remove them; the provider key belongs in api_key",
        )
    return url


NAME = re.compile(r"[A-Za-z0-9_.-]+")


def check_name(text: str) -> str:
    """Labels used in metrics and alerts: letters, digits, '_', '.', '-'."""
    if not NAME.fullmatch(text):
        raise Invalid("{value} is not a valid name", "use only letters, digits, '_', '.' and '-'")
    return text


_BCRYPT = re.compile(r"\$2[aby]\$(?:0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}")


def check_bcrypt(text: str) -> str:
    """A bcrypt hash ($2a$, $2b$ or $2y$), as Prometheus' web config expects for basic auth."""
    if not _BCRYPT.fullmatch(text):
        raise Invalid(
            "{value} is not a bcrypt hash",
            "expected a hash like $2b$12$...; docs/configuration.md shows how to make one",
        )
    return text


def one_of(
    choices: tuple[str, ...], what: str, fold: Callable[[str], str] = str.lower
) -> Callable[[str], str]:
    """A parser for one word of a fixed set; a near miss gets a 'did you mean' suggestion."""

    def parse(text: str) -> str:
        word = fold(text.strip())
        if word not in choices:
            raise Invalid(f"unknown {what} {{value}}", suggest(word, choices, always_list=True))
        return word

    return parse


def suggest(word: str, choices: Iterable[str], *, always_list: bool = False) -> str:
    """A hint: "did you mean 'x'?" when a choice is close, else (or also, with always_list) the choices."""
    ordered = list(choices)
    if not ordered:
        return "none are configured"
    listed = f"expected one of: {', '.join(ordered)}"
    close = difflib.get_close_matches(word, ordered, n=1, cutoff=0.6)
    if not close:
        return listed
    return f"did you mean '{close[0]}'? {listed}" if always_list else f"did you mean '{close[0]}'?"


def duration_at_least(minimum: float, *, strict: bool = False) -> Callable[[str], float]:
    """A duration parser with a lower bound (inclusive, or exclusive with strict=True)."""

    def parse(text: str) -> float:
        seconds = parse_duration(text)
        if seconds < minimum or (strict and seconds == minimum):
            bound = "more than" if strict else "at least"
            raise Invalid("{value} is too short", f"must be {bound} {minimum:g} seconds")
        return seconds

    return parse


def int_between(low: int, high: int | None = None) -> Callable[[str], int]:
    """A whole-number parser with inclusive bounds."""

    def parse(text: str) -> int:
        value = parse_int(text)
        if value < low or (high is not None and value > high):
            span = f"from {low} to {high}" if high is not None else f"{low} or more"
            raise Invalid("{value} is out of range", f"expected a whole number {span}")
        return value

    return parse


def decimal_between(
    low: Decimal, high: Decimal | None = None, *, low_open: bool = False
) -> Callable[[str], Decimal]:
    """A Decimal parser with bounds: low inclusive (exclusive with low_open), high exclusive."""

    def parse(text: str) -> Decimal:
        value = parse_decimal(text)
        if value < low or (low_open and value == low) or (high is not None and value >= high):
            lower = f"> {low}" if low_open else f">= {low}"
            span = f"{lower} and < {high}" if high is not None else lower
            raise Invalid("{value} is out of range", f"expected a number {span}")
        return value

    return parse
