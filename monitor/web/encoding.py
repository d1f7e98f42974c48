"""Content coding of `/metrics`, shared by the exposition (the daemon) and its mirror (the web child)."""

from __future__ import annotations

Variant = tuple[str, str]
"""(format, name escaping) of a rendered exposition, e.g. ("openmetrics", "underscores")."""


def gzip_accepted(accept_encoding: str | None) -> bool:
    """True when the Accept-Encoding header allows gzip ("gzip" or "*" without q=0)."""
    for item in (accept_encoding or "").split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        if coding.lower() not in ("gzip", "*"):
            continue
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False
