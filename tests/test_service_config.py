"""Service settings: defaults, a settings file, JOURNEYLENS_* variables and explicit values, in that precedence."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from service.config import load_service_settings
from service.keys import KeyStore
from service.ratelimit import RateLimiter


def test_defaults_are_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("JOURNEYLENS_SETTINGS_FILE", "JOURNEYLENS_DB", "JOURNEYLENS_CORS_ORIGINS", "JOURNEYLENS_HOST"):
        monkeypatch.delenv(name, raising=False)
    settings = load_service_settings()
    assert settings.host == "127.0.0.1" and settings.cors_origins == []
    assert settings.keys_file == Path("journeylens.keys.json")  # next to the default database


def test_file_then_environment_then_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings_file = tmp_path / "service.yaml"
    settings_file.write_text("port: 9100\nworkers: 2\ndb: /data/cx.duckdb\ncors_origins: [https://cx.example.com]\n"
                             "rate_limit_per_second: 5\n", encoding="utf-8")
    monkeypatch.setenv("JOURNEYLENS_PORT", "9200")
    settings = load_service_settings(settings_file, workers=3)
    assert settings.port == 9200  # the environment beats the file
    assert settings.workers == 3  # an explicit value beats both
    assert settings.cors_origins == ["https://cx.example.com"] and settings.rate_limit_per_second == 5
    assert settings.keys_file == Path("/data/cx.keys.json")


def test_invalid_settings_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEYLENS_WORKERS", "0")
    with pytest.raises(ValidationError):
        load_service_settings()
    with pytest.raises(ValueError, match="does not exist"):
        load_service_settings(tmp_path / "missing.yaml")


def test_keys_are_stored_as_digests_only(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.json")
    entry, secret = store.create("platform", read_only=True)
    text = (tmp_path / "keys.json").read_text()
    assert secret not in text and entry.digest in text
    assert (tmp_path / "keys.json").stat().st_mode & 0o077 == 0  # readable by the owner only
    assert store.lookup(secret) == entry and store.lookup(secret + "x") is None and store.lookup(None) is None
    assert store.revoke("platform") == [entry]
    assert KeyStore(tmp_path / "keys.json").lookup(secret) is None


def test_token_bucket_allows_the_burst_then_the_rate() -> None:
    limiter = RateLimiter(rate=10.0, burst=3)
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.acquire("a")
    assert 0 < wait <= 0.1
    assert limiter.acquire("b") == 0.0  # buckets are per key
    assert RateLimiter(rate=0, burst=1).acquire("a") == 0.0  # rate 0: no limit
