"""PageStream (monitor.net.jsonstream) reads a page envelope as json.loads does, whatever the chunks, with
elements both smaller and larger than the parsed text it keeps (KEEP_READ_TEXT)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import pytest

from monitor.net.jsonstream import KEEP_READ_TEXT, PageStream


def bucket(start: int, results: int) -> dict[str, Any]:
    return {
        "start_time": start,
        "results": [
            {"project_id": f"proj_{i}", "amount": {"value": i / 7, "currency": "usd"}} for i in range(results)
        ],
    }


def chunks(body: bytes, rng: random.Random) -> Iterator[bytes]:
    at = 0
    while at < len(body):
        size = rng.choice((1, 7, 1000, 65536, 300_000))
        yield body[at : at + size]
        at += size


@pytest.mark.parametrize("seed", range(4))
def test_elements_larger_than_the_kept_text_read_as_json_loads_does(seed: int) -> None:
    data = [bucket(0, 3), bucket(1, 4000), bucket(2, 1), bucket(3, 9000), bucket(4, 2)]
    body = json.dumps({"object": "page", "data": data, "has_more": False, "next_page": None}).encode()
    assert len(json.dumps(data[3])) > 4 * KEEP_READ_TEXT  # the case this guards: a large element
    page = PageStream(chunks(body, random.Random(seed)), key="data", max_element=2**25)
    assert list(page.elements()) == data
    assert page.members == {"object": "page", "has_more": False, "next_page": None}
