"""Security of the HTTP API over real HTTP: API keys, read-only keys, body limit, rate limit, problem details."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from service.keys import KeyStore
from tests.support.server import ServerProcess

TRANSCRIPT = {"id": "s-1", "turns": [{"speaker": "客户", "text": "退款什么时候到账？"},
                                     {"speaker": "客服", "text": "预计三个工作日内到账"}]}
V1_ROUTES = [
    ("POST", "/v1/analyze", TRANSCRIPT),
    ("POST", "/v1/analyze/batch", {"transcripts": [TRANSCRIPT]}),
    ("POST", "/v1/transcripts", TRANSCRIPT),
    ("GET", "/v1/transcripts/s-1", None),
    ("GET", "/v1/taxonomies", None),
    ("GET", "/v1/models", None),
]
MAX_BODY = 16_384


@dataclass
class Secured:
    server: ServerProcess
    client: httpx.Client
    key: str
    read_only_key: str
    limited_key: str
    db: Path


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    folder = tmp_path_factory.mktemp("service_security")
    keys = KeyStore(folder / "cx.keys.json")
    _, key = keys.create("platform")
    _, read_only_key = keys.create("dashboard", read_only=True)
    _, limited_key = keys.create("limited", rate_limit_per_second=0.5, rate_limit_burst=3)
    settings = {"max_body_bytes": MAX_BODY, "rate_limit_per_second": 1000, "rate_limit_burst": 1000}
    with ServerProcess(folder / "cx.duckdb", folder / "server.log", settings) as server, \
            httpx.Client(base_url=server.url, timeout=30) as client:
        yield Secured(server, client, key, read_only_key, limited_key, folder / "cx.duckdb")


def assert_problem(response: httpx.Response, status: int, type_: str | None = None) -> dict:
    """An RFC 9457 problem: the media type, the members, the status repeated, and no trace of the internals."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert body["type"] == (type_ or body["type"]) and body["type"].startswith(("urn:journeylens:problem:", "about:"))
    assert body["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text and 'File "' not in response.text
    return body


@pytest.mark.parametrize(("method", "path", "body"), V1_ROUTES, ids=[f"{m} {p}" for m, p, _ in V1_ROUTES])
def test_every_v1_route_needs_a_valid_key(secured: Secured, method: str, path: str, body: object) -> None:
    missing = secured.client.request(method, path, json=body)
    problem = assert_problem(missing, 401, "urn:journeylens:problem:unauthorized")
    assert "X-API-Key" in problem["detail"] and missing.headers["www-authenticate"].startswith("ApiKey")
    wrong = secured.client.request(method, path, json=body, headers={"X-API-Key": "jl_" + "x" * 43})
    assert_problem(wrong, 401, "urn:journeylens:problem:unauthorized")


def test_a_key_is_compared_whole_down_to_its_last_character(secured: Secured) -> None:
    key = secured.key
    assert key.startswith("jl_") and len(key) == 46
    last = "A" if key[-1] != "A" else "B"
    near_misses = {"last character changed": key[:-1] + last, "last character dropped": key[:-1],
                   "a character appended": key + "A", "first 24 characters": key[:24],
                   "a middle character changed": key[:30] + ("A" if key[30] != "A" else "B") + key[31:]}
    for what, wrong in near_misses.items():
        response = secured.client.get("/v1/taxonomies", headers={"X-API-Key": wrong})
        assert response.status_code == 401, what
        assert_problem(response, 401, "urn:journeylens:problem:unauthorized")
    assert secured.client.get("/v1/taxonomies", headers={"X-API-Key": key}).status_code == 200


def test_keys_are_checked_before_the_body_is_read(secured: Secured) -> None:
    broken = secured.client.post("/v1/analyze", content=b'{"id": ', headers={"content-type": "application/json"})
    assert_problem(broken, 401)
    too_large = secured.client.post("/v1/analyze", content=b"x" * (MAX_BODY + 1))
    assert_problem(too_large, 401)


def test_read_only_key_gets_403_on_ingestion(secured: Secured) -> None:
    refused = secured.client.post("/v1/transcripts", json=TRANSCRIPT, headers={"X-API-Key": secured.read_only_key})
    assert_problem(refused, 403, "urn:journeylens:problem:read-only-key")
    allowed = secured.client.post("/v1/analyze", json=TRANSCRIPT, headers={"X-API-Key": secured.read_only_key})
    assert allowed.status_code == 200


def test_bodies_over_the_limit_get_413_with_or_without_a_length(secured: Secured) -> None:
    big = {**TRANSCRIPT, "turns": [{"speaker": "customer", "text": "太慢了" * (MAX_BODY // 6)}]}
    declared = secured.client.post("/v1/analyze", json=big, headers={"X-API-Key": secured.key})
    problem = assert_problem(declared, 413, "urn:journeylens:problem:body-too-large")
    assert f"{MAX_BODY:,}" in problem["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer encoding
        payload = json.dumps(big).encode()
        for start in range(0, len(payload), 4096):
            yield payload[start:start + 4096]

    chunked = secured.client.post("/v1/analyze", content=chunks(),
                                  headers={"X-API-Key": secured.key, "content-type": "application/json"})
    assert "content-length" not in chunked.request.headers
    assert_problem(chunked, 413, "urn:journeylens:problem:body-too-large")

    small = json.dumps(TRANSCRIPT).encode()
    chunked_small = secured.client.post("/v1/analyze", content=iter([small[:10], small[10:]]),
                                        headers={"X-API-Key": secured.key, "content-type": "application/json"})
    assert chunked_small.status_code == 200, chunked_small.text


def test_rate_limit_is_per_key_and_answers_429_with_retry_after(secured: Secured) -> None:
    headers = {"X-API-Key": secured.limited_key}
    statuses = [secured.client.get("/v1/taxonomies", headers=headers).status_code for _ in range(6)]
    assert statuses[:3] == [200, 200, 200]  # the burst
    assert statuses[3:] == [429, 429, 429]
    limited = secured.client.get("/v1/taxonomies", headers=headers)
    assert_problem(limited, 429, "urn:journeylens:problem:rate-limited")
    assert int(limited.headers["retry-after"]) >= 1
    assert secured.client.get("/v1/taxonomies", headers={"X-API-Key": secured.key}).status_code == 200
    time.sleep(2.1)  # 0.5 tokens/s: one request is allowed again
    assert secured.client.get("/v1/taxonomies", headers=headers).status_code == 200


@pytest.mark.parametrize(("method", "path", "body", "status", "type_"), [
    ("GET", "/v1/nothing-here", None, 404, "about:blank"),
    ("GET", "/nothing-here", None, 404, "about:blank"),
    ("DELETE", "/v1/analyze", None, 405, "about:blank"),
    ("POST", "/v1/analyze", b'{"id": "x", "turns": [', 422, "urn:journeylens:problem:validation"),
    ("POST", "/v1/analyze", {"id": "x"}, 422, "urn:journeylens:problem:validation"),
    ("POST", "/v1/analyze", {"id": "x", "turns": [{"speaker": "martian", "text": "hi"}]}, 422,
     "urn:journeylens:problem:validation"),
    ("POST", "/v1/analyze", [1, 2], 422, "urn:journeylens:problem:validation"),
    ("POST", "/v1/analyze/batch", {"transcripts": []}, 422, "urn:journeylens:problem:validation"),
    ("GET", "/v1/transcripts/absent", None, 404, "urn:journeylens:problem:transcript-not-found"),
])
def test_errors_are_problem_details(secured: Secured, method: str, path: str, body: object, status: int,
                                    type_: str) -> None:
    kwargs = {"content": body} if isinstance(body, bytes) else {"json": body}
    response = secured.client.request(method, path, headers={"X-API-Key": secured.key,
                                                             "content-type": "application/json"}, **kwargs)
    problem = assert_problem(response, status, type_)
    assert problem["instance"] == path
    if status == 422:
        assert problem["errors"] and all({"loc", "msg", "type"} == set(e) for e in problem["errors"])
        assert "input" not in response.text  # the request's content is not echoed back


def test_cors_is_off_by_default(secured: Secured) -> None:
    origin = {"Origin": "https://evil.example", "X-API-Key": secured.key}
    response = secured.client.get("/v1/taxonomies", headers=origin)
    assert response.status_code == 200 and "access-control-allow-origin" not in response.headers
    preflight = secured.client.options("/v1/analyze", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers


def test_keys_command_creates_a_key_shown_once_and_revokes_it(secured: Secured) -> None:
    def journeylens(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "nlp.cli", "keys", *args, "--db", str(secured.db)],
                              capture_output=True, text=True, timeout=60)

    created = journeylens("create", "--name", "cli-reader", "--read-only")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("jl_") and len(key) > 40
    stored = (secured.db.parent / "cx.keys.json").read_text()
    assert key not in stored and "cli-reader" in stored  # only the digest is kept
    headers = {"X-API-Key": key}
    deadline = time.monotonic() + 5
    while secured.client.get("/v1/models", headers=headers).status_code != 200:  # the server re-reads the file
        assert time.monotonic() < deadline, "the new key was not accepted"
        time.sleep(0.2)
    assert_problem(secured.client.post("/v1/transcripts", json=TRANSCRIPT, headers=headers), 403)

    revoked = journeylens("revoke", "cli-reader")
    assert revoked.returncode == 0, revoked.stderr
    deadline = time.monotonic() + 5
    while secured.client.get("/v1/models", headers=headers).status_code != 401:
        assert time.monotonic() < deadline, "the revoked key was still accepted"
        time.sleep(0.2)


def test_a_second_server_on_the_same_database_refuses_to_start(secured: Secured) -> None:
    second = subprocess.run([sys.executable, "-m", "nlp.cli", "serve", "--db", str(secured.db), "--port", "1"],
                            capture_output=True, text=True, timeout=60)
    assert second.returncode == 1
    assert "one writing process per file" in " ".join(second.stderr.split())
    assert secured.client.get("/readyz").status_code == 200  # the first one is unaffected
