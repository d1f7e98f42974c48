"""Azure Resource Manager requests of one Azure OpenAI account: the service principal's bearer token on
every request (asked again once when ARM refuses it, see `azure_auth.TokenSource`), and ARM's link
paging, which follows `nextLink` only on the management host. Facts: docs/providers.md, "Azure OpenAI".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from monitor.providers.azure_auth import TokenSource
from monitor.providers.http import ApiClient
from monitor.providers.paging import link_pages
from monitor.providers.payload import Fields


class ArmRequests:
    """Requests to `management_url` through `client`, each with a token from `tokens`."""

    def __init__(self, client: ApiClient, tokens: TokenSource, management_url: str) -> None:
        self._arm = client
        self._tokens = tokens
        self._origin = _origin(management_url)

    def get_json(
        self, path: str, params: Sequence[tuple[str, str]], *, endpoint: str, now: int
    ) -> dict[str, Any]:
        """GET `path` with the bearer token; the JSON object body."""
        return self._tokens.call(
            now, lambda t: self._arm.request_json("GET", path, params, endpoint=endpoint, headers=_bearer(t))
        )

    def paged(
        self,
        method: str,
        path: str,
        params: list[tuple[str, str]],
        endpoint: str,
        now: int,
        *,
        body: Any = None,
        key: str = "",
    ) -> Iterator[list[Any]]:
        """ARM's link paging: follow `nextLink` (POST the same body again for Cost Management), only to the
        management host (the token must never go elsewhere). Yields each page's `value` list, or with
        `key` a list holding the page's `key` object (Cost Management's `properties`)."""
        f = self._arm.fields(endpoint)

        def fetch(link: str | None) -> tuple[list[Any], str | None]:
            target, query = (path, params) if link is None else (self._same_origin(f, link), [])
            answer = self._tokens.call(
                now,
                lambda t: self._arm.request_json(
                    method, target, query, endpoint=endpoint, json_body=body, headers=_bearer(t)
                ),
            )
            holder = f.obj(answer.get(key), key) if key else answer
            following = holder.get("nextLink") if key else answer.get("nextLink")
            if following is not None and not isinstance(following, str):
                raise f.error("nextLink", f"expected a URL or null, got {following!r:.40}")
            return ([holder] if key else f.items(answer, "value", "")), following or None

        def error(problem: str) -> Exception:
            return f.error("nextLink", problem)

        yield from link_pages(fetch, max_pages=self._arm.max_pages, error=error)

    def _same_origin(self, f: Fields, link: str) -> str:
        if _origin(link) != self._origin:
            raise f.error("nextLink", "points to another host than management_url; not followed")
        return link


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()
