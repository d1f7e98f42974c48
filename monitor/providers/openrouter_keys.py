"""OpenRouter's API keys as the adapter reads them (`GET /keys`, 100 a page by offset, disabled ones too,
§2.4): each with a name unique in the account, and what each spent today so far (`usage_daily`).
Facts: docs/providers.md, "OpenRouter".
"""

from __future__ import annotations

from typing import Any

from monitor.providers.http import ApiClient
from monitor.providers.paging import offset_pages
from monitor.providers.payload import read_pico

KEYS_PAGE = 100


class KeyList:
    """The keys of one account, read through `client` (with a management key), once per `now`."""

    def __init__(self, client: ApiClient) -> None:
        self._client = client
        self._keys: tuple[int, list[tuple[str, dict[str, Any]]]] | None = None

    def named(self, now: int) -> list[tuple[str, dict[str, Any]]]:
        """Every API key (`/keys`, 100 a page by offset, disabled ones too) with a name unique in the
        account (its name, else label, else hash; a repeated one gets its hash's start), once per `now`."""
        if self._keys is None or self._keys[0] != now:
            f = self._client.fields("keys")

            def fetch(page: int) -> tuple[list[Any], int | None]:
                params = [("include_disabled", "true"), ("offset", str(page * KEYS_PAGE))]
                body = self._client.get_json("/keys", params, endpoint="keys")
                return [
                    f.obj(k, f"page {page + 1}.data[{i}]") for i, k in enumerate(f.items(body, "data", ""))
                ], None

            def moved(problem: str) -> Exception:
                return f.error("keys", problem)

            pages = offset_pages(
                fetch, first=0, page_size=KEYS_PAGE, max_pages=self._client.max_pages, error=moved
            )
            keys = [key for page in pages for key in page]
            names = [
                f.text(k, "name", f"keys[{i}]")
                or f.text(k, "label", f"keys[{i}]")
                or f.text(k, "hash", "")[:12]
                for i, k in enumerate(keys)
            ]
            repeated = {n for n in names if names.count(n) > 1}
            unique = [
                f"{n} ({f.text(k, 'hash', f'keys[{i}]')[:8]})" if n in repeated else n
                for i, (n, k) in enumerate(zip(names, keys, strict=True))
            ]
            self._keys = (now, list(zip(unique, keys, strict=True)))
        return self._keys[1]

    def spent_today(self, now: int) -> list[tuple[str, int]]:
        """Each key's spend so far in the current UTC day (`usage_daily`), in picodollars."""
        f = self._client.fields("keys")
        spent = []
        for i, (name, key) in enumerate(self.named(now)):
            where = f"keys[{i}]"
            spent.append((name, read_pico(f, key, "usage_daily", where)))
        return spent
