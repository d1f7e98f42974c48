"""A hostile provider on loopback (tests/hostile_support.py) against the real ApiClient: a gzip bomb and
a huge page are refused or streamed with the peak memory of a subprocess under a bound, a trickle is
cut at the request's total deadline, and an endless chain of pages stops at the page bound."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hostile_support import big_page, bomb, endless_pages, hostile, trickle

from monitor.errors import ProviderResponseError, ProviderTransientError
from monitor.providers.http import MAX_PAGES, ApiClient

ROOT = Path(__file__).resolve().parents[1]
PATH = "/v1/organization/usage/completions"
MIB = 2**20

PROBE = """
import json, sys
from monitor.errors import ProviderError
from monitor.providers.http import ApiClient

def peak():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) * 1024

api = ApiClient(account="acct", base_url=sys.argv[1], headers={}, secrets=(), key_hint="k",
                max_attempts=1, timeout=120)
before = peak()
out = {}
try:
    out["buckets"] = sum(len(part) for part in api.parts(sys.argv[2], [], endpoint="completions"))
except ProviderError as exc:
    out["error"], out["reason"] = str(exc), exc.reason
out["growth"] = peak() - before
print(json.dumps(out))
"""


def probe(url: str) -> dict[str, object]:
    """Fetch `url` in a fresh interpreter; what it got and how much its peak RSS grew meanwhile."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, url, PATH],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("inflated", [pytest.param(2**30, id="1-GiB-inside-a-bucket")])
def test_a_gzip_bomb_is_refused_naming_the_endpoint_in_bounded_memory(inflated: int) -> None:
    with hostile(bomb(inflated)) as (url, arrivals):
        got = probe(url)
    assert got["reason"] == "bad_response"
    assert "acct: GET /v1/organization/usage/completions (completions): the response is refused" in str(
        got["error"]
    )
    assert "MiB" in str(got["error"]) and len(arrivals) == 1  # not retried
    assert int(str(got["growth"])) < 160 * MIB


def test_a_gzip_bomb_of_whitespace_stops_at_the_response_bound() -> None:
    with hostile(bomb(2**30, inside=False)) as (url, _):
        got = probe(url)
    assert got["reason"] == "bad_response"
    assert "more than 512 MiB (decompressed)" in str(got["error"])
    assert int(str(got["growth"])) < 64 * MIB


def test_a_50_mb_page_is_streamed_in_bounded_memory() -> None:
    with hostile(big_page(50)) as (url, _):
        got = probe(url)
    assert "error" not in got and int(str(got["buckets"])) > 10
    assert int(str(got["growth"])) < 100 * MIB


def test_a_trickling_provider_is_cut_at_the_total_deadline() -> None:
    with hostile(trickle(0.2)) as (url, _):
        api = ApiClient(
            account="acct", base_url=url, headers={}, secrets=(), key_hint="k", timeout=1.5, max_attempts=1
        )
        started = time.monotonic()
        with pytest.raises(ProviderTransientError, match=r"no complete answer within 1.5 s") as caught:
            api.get_json(PATH, [])
        took = time.monotonic() - started
    assert caught.value.reason == "timeout"
    assert 1.4 < took < 2.5


def test_a_provider_trickling_its_headers_is_cut_at_the_total_deadline() -> None:
    with hostile(trickle(0.2, in_headers=True)) as (url, _):
        api = ApiClient(
            account="acct", base_url=url, headers={}, secrets=(), key_hint="k", timeout=1.5, max_attempts=1
        )
        started = time.monotonic()
        with pytest.raises(ProviderTransientError) as caught:
            api.get_json(PATH, [])
        took = time.monotonic() - started
    assert caught.value.reason == "timeout"
    assert took < 2.5


def test_cancel_cuts_a_request_in_flight() -> None:
    with hostile(trickle(0.2)) as (url, arrivals):
        api = ApiClient(account="acct", base_url=url, headers={}, secrets=(), key_hint="k", timeout=60)
        threading_cancel_after(api, arrivals)
        started = time.monotonic()
        with pytest.raises(ProviderTransientError, match="cancelled"):
            api.get_json(PATH, [])
        assert time.monotonic() - started < 3
    assert len(arrivals) == 1  # no retry after the cancel


def threading_cancel_after(api: ApiClient, arrivals: list[float]) -> None:
    def cancel() -> None:
        while not arrivals:
            time.sleep(0.01)
        time.sleep(0.3)
        api.cancel()

    threading.Thread(target=cancel, daemon=True).start()


def test_an_endless_chain_of_pages_stops_at_the_page_bound() -> None:
    with hostile(endless_pages()) as (url, arrivals):
        api = ApiClient(account="acct", base_url=url, headers={}, secrets=(), key_hint="k")
        with pytest.raises(
            ProviderResponseError, match=rf"still more pages after {MAX_PAGES}; stopped"
        ) as caught:
            list(api.parts(PATH, [], endpoint="completions"))
    assert caught.value.reason == "bad_response"
    assert len(arrivals) == MAX_PAGES
