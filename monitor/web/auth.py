"""HTTP basic auth with bcrypt-hashed passwords, as Prometheus' exporter-toolkit web config does it.

bcrypt is slow on purpose (tens to hundreds of milliseconds), too slow to run on every scrape, so
a (user, password) check is remembered as an HMAC under a per-process random key, whether it
succeeded or failed: the cache never holds a password or anything that could be tested offline
against one. Unknown users still cost one bcrypt run, so response times do not reveal which users
exist. At most one bcrypt runs at a time, so clients guessing passwords keep one core busy at
most, never all of them, and a scrape with remembered credentials never waits for them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Mapping

import bcrypt

from monitor.errors import ConfigError

_BCRYPT = re.compile(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}")
CACHE_LIMIT = 1024
REALM = 'Basic realm="spend-monitor", charset="UTF-8"'


class BasicAuth:
    """Checks `Authorization: Basic ...` headers against {user: bcrypt hash}."""

    def __init__(self, users: Mapping[str, str], *, key_path: str = "web.basic_auth_users") -> None:
        problems = [
            f"{key_path}.{user}: not a bcrypt hash; make one with `htpasswd -nBC 12 \"\" | tr -d ':\\n'`"
            for user, hashed in users.items()
            if not _BCRYPT.fullmatch(hashed)
        ]
        if not users:
            problems.append(f"{key_path}: lists no users; remove it or add user: bcrypt-hash entries")
        if problems:
            raise ConfigError(problems)
        self._users = {user.encode(): hashed.encode() for user, hashed in users.items()}
        self._decoy = next(iter(self._users.values()))
        self._key = secrets.token_bytes(32)
        self._verified: set[bytes] = set()
        self._refused: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()
        self._bcrypt = threading.Lock()
        self.bcrypt_runs = 0
        """How many times bcrypt ran (cache misses); observable so the cache can be tested."""

    def check(self, header: str | None) -> bool:
        """True when the header carries a configured user and the right password."""
        credentials = _parse(header)
        if credentials is None:
            return False
        user, password = credentials
        tag = hmac.new(self._key, user + b":" + password, hashlib.sha256).digest()
        if (known := self._remembered(tag)) is not None:
            return known
        with self._bcrypt:  # one bcrypt at a time: guessing clients cannot take every core
            if (known := self._remembered(tag)) is not None:
                return known
            hashed = self._users.get(user)
            self.bcrypt_runs += 1
            try:
                ok = bcrypt.checkpw(password, hashed or self._decoy) and hashed is not None
            except ValueError:  # bcrypt refuses passwords over 72 bytes: no hash can match them
                ok = False
        with self._lock:
            if ok:
                if len(self._verified) >= CACHE_LIMIT:
                    self._verified.clear()
                self._verified.add(tag)
            else:
                self._refused[tag] = None
                while len(self._refused) > CACHE_LIMIT:
                    self._refused.popitem(last=False)
        return ok

    def _remembered(self, tag: bytes) -> bool | None:
        """True or False for a (user, password) checked before, None for a new one."""
        with self._lock:
            if tag in self._verified:
                return True
            if tag in self._refused:
                return False
        return None


def _parse(header: str | None) -> tuple[bytes, bytes] | None:
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(b":")
    if not sep:
        return None
    return user, password
