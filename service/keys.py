"""API keys: random secrets, stored only as SHA-256 digests in a small JSON file next to the database.

A key is ``jl_`` + 43 URL-safe characters (256 random bits), shown once when it is created. Because keys are
long random strings a plain SHA-256 digest is enough (a slow password hash protects guessable secrets); the file
holds no secret that would let anyone call the API. The server re-reads the file when it changes, so keys
created or revoked with ``journeylens keys`` take effect without a restart. A key may be read-only (no
ingestion) and may carry its own rate limit.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger("journeylens.keys")

KEY_PREFIX = "jl_"
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class ApiKey:
    """A stored key: everything but the secret."""

    key_id: str
    name: str
    digest: str
    read_only: bool = False
    created_at: str = ""
    rate_limit_per_second: float | None = None
    rate_limit_burst: int | None = None


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeyStore:
    """The key file: create, list and revoke keys (CLI), look them up (server)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._by_digest: dict[str, ApiKey] = {}
        self._seen: tuple[int, int] | None = None
        self._checked = 0.0

    # -- file ----------------------------------------------------------------------------------------------
    def _read(self) -> list[ApiKey]:
        if not self.path.is_file():
            return []
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return [ApiKey(**entry) for entry in data.get("keys", [])]
        except (OSError, ValueError, TypeError) as error:
            raise ValueError(f"{self.path}: not a journeylens key file ({error})") from error

    def _write(self, keys: list[ApiKey]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}")
        text = json.dumps({"keys": [asdict(k) for k in keys]}, indent=2, ensure_ascii=False) + "\n"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, self.path)

    # -- management (CLI) ----------------------------------------------------------------------------------
    def create(self, name: str, read_only: bool = False, rate_limit_per_second: float | None = None,
               rate_limit_burst: int | None = None) -> tuple[ApiKey, str]:
        """A new key: the stored entry and the secret, which is not kept anywhere."""
        if not name.strip():
            raise ValueError("a key needs a name")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        entry = ApiKey(key_id=uuid.uuid4().hex[:12], name=name.strip(), digest=digest(secret), read_only=read_only,
                       created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                       rate_limit_per_second=rate_limit_per_second, rate_limit_burst=rate_limit_burst)
        with self._lock:
            self._write([*self._read(), entry])
        return entry, secret

    def entries(self) -> list[ApiKey]:
        return self._read()

    def revoke(self, key_id_or_name: str) -> list[ApiKey]:
        """Remove the keys with this id or name; returns the removed ones."""
        with self._lock:
            keys = self._read()
            removed = [k for k in keys if key_id_or_name in (k.key_id, k.name)]
            if removed:
                self._write([k for k in keys if k not in removed])
        return removed

    # -- lookup (server) -----------------------------------------------------------------------------------
    def lookup(self, key: str | None) -> ApiKey | None:
        """The stored key matching ``key``, or None."""
        if not key or len(key) > MAX_KEY_LENGTH:
            return None
        self._refresh()
        return self._by_digest.get(digest(key))

    def _refresh(self, every_s: float = 1.0) -> None:
        now = time.monotonic()
        if now - self._checked < every_s and self._seen is not None:
            return
        with self._lock:
            self._checked = now
            try:
                stat = self.path.stat()
                seen = (stat.st_mtime_ns, stat.st_size)
            except FileNotFoundError:
                seen = (0, 0)
            if seen != self._seen:
                try:
                    self._by_digest = {k.digest: k for k in self._read()}
                except ValueError as error:  # keep the keys last read; a half-edited file must not open the API
                    log.error("%s", error)
                self._seen = seen
