"""Microsoft identity platform tokens for Azure Resource Manager: the OAuth2 client-credentials flow, a
token reused until shortly before it expires, renewed at once when ARM says it expired.

Facts: shared/channel-apis.md §3.1 (learn.microsoft.com, "Microsoft identity platform and the OAuth 2.0
client credentials flow", S8; AADSTS error bodies, S14).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from monitor.errors import ProviderAuthError, ProviderError, ProviderTransientError
from monitor.providers.http import ApiClient

log = logging.getLogger(__name__)

T = TypeVar("T")
RENEW_BEFORE = 300
"""Seconds before its expiry a token is replaced rather than used."""


class TokenSource:
    """Access tokens for `scope` from `POST {login}/{tenant}/oauth2/v2.0/token` (form-encoded body)."""

    def __init__(
        self, login: ApiClient, *, account: str, tenant: str, client_id: str, client_secret: str, scope: str
    ) -> None:
        self._login = login
        self._account = account
        self._path = f"/{tenant}/oauth2/v2.0/token"
        self._form = {
            "client_id": client_id,
            "client_secret": client_secret,
            "grant_type": "client_credentials",
            "scope": scope,
        }
        self._token: str | None = None
        self._expires = 0

    def token(self, now: int, *, renew: bool = False) -> str:
        """A valid token: the current one unless it is about to expire (or `renew`)."""
        if renew or self._token is None or now >= self._expires - RENEW_BEFORE:
            self._token, self._expires = self._fetch(now)
        return self._token

    def call(self, now: int, request: Callable[[str], T]) -> T:
        """`request(token)`; when ARM refuses the token (expired, revoked), one more try with a new one."""
        try:
            return request(self.token(now))
        except ProviderAuthError:
            log.info("%s: Azure refused the access token; asking for a new one", self._account)
        return request(self.token(now, renew=True))

    def _fetch(self, now: int) -> tuple[str, int]:
        try:
            body = self._login.request_json("POST", self._path, form=self._form, endpoint="token")
        except ProviderTransientError:
            raise
        except ProviderError as exc:
            # The message is the identity platform's own (AADSTS...), already redacted by the client.
            raise ProviderAuthError(
                f"{exc} (Microsoft Entra ID refused the token request)",
                account=self._account,
                endpoint="token",
                reason="auth",
            ) from None
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise self._login.fields("token").error("access_token", "the token response has no access_token")
        return token, now + _lifetime(body.get("expires_in"))


def _lifetime(value: Any) -> int:
    """`expires_in` seconds (a number, or digits as v1 endpoints send it); an hour less a second if absent."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 3599
