"""Checking apprise URLs the way apprise itself will read them, without letting apprise print them.

A mistyped scheme (`slak://`) or a URL whose tokens do not fit its service used to pass
`check-config` and fail at start-up, and apprise's own ERROR line then printed the URL with its
tokens. Here apprise parses the URL with its logger silenced, and the problem is described by the
scheme only (never the tokens).
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import re
import warnings
from collections.abc import Iterator

from monitor.config.values import Invalid

_APPRISE_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://\S+")
WIKI = "see https://github.com/caronc/apprise/wiki for the URL of each service"


@contextlib.contextmanager
def quiet_apprise() -> Iterator[None]:
    """apprise's logger switched off (its parse errors print the URL they could not parse), and the
    DeprecationWarnings of its plugins' imports (imghdr) silenced: they are apprise's own."""
    logger = logging.getLogger("apprise")
    was = logger.disabled
    logger.disabled = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        logger.disabled = was


def check_apprise_url(text: str) -> str:
    """An apprise notification URL whose scheme apprise knows and whose form its service accepts."""
    match = _APPRISE_URL.fullmatch(text)
    if match is None:
        raise Invalid(
            "{value} is not an apprise URL", "expected SCHEME://..., like slack://TokenA/TokenB/TokenC"
        )
    scheme = match.group(1).lower()
    import apprise  # noqa: PLC0415 (slow to import; only configs with an apprise channel need it)
    from apprise.manager_plugins import NotificationManager  # noqa: PLC0415 (apprise >= 1.8)

    with quiet_apprise():
        schemes: list[str] = NotificationManager().schemas()  # type: ignore[no-untyped-call]
        if scheme not in schemes:
            close = difflib.get_close_matches(scheme, schemes, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}://'? " if close else ""
            raise Invalid(f"{{value}} has a scheme apprise does not know ('{scheme[:20]}')", hint + WIKI)
        if apprise.Apprise.instantiate(text, suppress_exceptions=True) is None:
            raise Invalid(
                f"apprise cannot use {{value}}: its tokens or form do not fit the '{scheme}' service",
                WIKI,
            )
    return text
