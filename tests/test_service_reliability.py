"""One request must never disturb another: hostile bodies, stalled workers and answers matched to their callers.

Over real HTTP against a real server with real inference workers (no mocks): a body that cannot be processed is
refused with 422 and afterwards every honest caller still gets its own analysis; a worker that stops answering
makes ``/readyz`` fail and is replaced.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from nlp.config import PipelineConfig
from nlp.pipeline import Pipeline
from nlp.schema.transcript import Transcript
from service.inference import InferencePool, Job, MicroBatcher
from service.keys import KeyStore
from tests.support.server import ServerProcess


def deep(levels: int) -> dict:
    """``{"a": {"a": … {}}}`` nested ``levels`` deep."""
    value: dict = {}
    for _ in range(levels):
        value = {"a": value}
    return value


def honest(i: int) -> dict:
    return {"id": f"honest-{i}", "turns": [{"speaker": "customer", "text": f"我的订单{i}号还没到，骑手在哪里"},
                                           {"speaker": "agent", "text": f"您好，订单{i}号马上送达"}]}


def assert_own_answer(response: httpx.Response, i: int) -> None:
    """The analysis of ``honest(i)``: its id and its own texts, nobody else's."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == f"honest-{i}"
    texts = " ".join(u["text"] for u in body["utterances"])
    assert f"订单{i}号" in texts
    assert all(f"订单{j}号" not in texts for j in range(40) if j != i)


@dataclass
class Served:
    server: ServerProcess
    client: httpx.Client
    key: str
    read_only_key: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("service_reliability")
    keys = KeyStore(folder / "cx.keys.json")
    _, key = keys.create("platform")
    _, read_only_key = keys.create("viewer", read_only=True)
    settings = {"workers": 2, "rate_limit_per_second": 0, "worker_stall_s": 3}
    with ServerProcess(folder / "cx.duckdb", folder / "server.log", settings) as server, \
            httpx.Client(base_url=server.url, timeout=30) as client:
        yield Served(server, client, key, read_only_key)


def analyze_concurrently(served: Served, numbers: range) -> list[httpx.Response]:
    def call(i: int) -> httpx.Response:
        with httpx.Client(base_url=served.server.url, timeout=30) as client:
            return client.post("/v1/analyze", json=honest(i), headers={"X-API-Key": served.read_only_key})
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(call, numbers))


def test_deeply_nested_metadata_is_refused_and_honest_callers_keep_their_own_answers(served: Served) -> None:
    hostile = {"id": "hostile", "metadata": deep(900), "turns": [{"speaker": "customer", "text": "hi"}]}
    refused = served.client.post("/v1/analyze", content=json.dumps(hostile),
                                 headers={"X-API-Key": served.read_only_key, "Content-Type": "application/json"})
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    for i, response in zip(range(32), analyze_concurrently(served, range(32)), strict=True):
        assert_own_answer(response, i)
    stored = served.client.post("/v1/transcripts", json=honest(33), headers={"X-API-Key": served.key})
    assert stored.status_code == 201, stored.text
    back = served.client.get(stored.headers["location"], headers={"X-API-Key": served.key})
    assert back.status_code == 200 and back.json()["id"] == "honest-33"
    assert "订单33号" in " ".join(u["text"] for u in back.json()["utterances"])
    assert served.client.get("/readyz").status_code == 200


def busy_workers(served: Served) -> int:
    """The service's own count of inference workers holding a batch (``GET /metrics``)."""
    text = served.client.get("/metrics").text
    return int(float(re.search(r"^journeylens_inference_busy_workers (\S+)$", text, re.MULTILINE)[1]))


def test_a_stalled_worker_fails_readiness_and_is_replaced(served: Served) -> None:
    server = psutil.Process(served.server.process.pid)
    workers = [p for p in server.children(recursive=True) if "spawn_main" in " ".join(p.cmdline())
               and "resource_tracker" not in " ".join(p.cmdline())]
    assert len(workers) == 2, [p.cmdline() for p in workers]
    for worker in workers:
        os.kill(worker.pid, signal.SIGSTOP)
    waiting = ThreadPoolExecutor(2)
    stuck = []
    for i in range(2):  # one batch after the other, so that each stopped worker holds one (an idle one is not stalled)
        stuck.append(waiting.submit(analyze_concurrently, served, range(i, i + 1)))
        deadline = time.monotonic() + 30
        while busy_workers(served) < i + 1:  # the batch was sent before the next request can join it
            assert time.monotonic() < deadline, "the request never reached a worker"
            time.sleep(0.1)
    deadline = time.monotonic() + 30
    statuses = []
    while time.monotonic() < deadline:
        response = served.client.get("/readyz")
        statuses.append(response.status_code)
        if response.status_code == 503:  # inference-stalled, then not-ready once the watchdog killed them
            assert response.json()["type"].rsplit(":", 1)[-1] in ("inference-stalled", "not-ready")
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"/readyz never reported the stalled workers: {statuses}")
    deadline = time.monotonic() + 120
    while served.client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "the stalled workers were not replaced"
        time.sleep(0.5)
    assert all(not w.is_running() or w.status() == psutil.STATUS_ZOMBIE for w in workers)
    assert [r.status_code for f in stuck for r in f.result()] == [503, 503]  # failed, not someone else's analysis
    waiting.shutdown()
    for i, response in zip(range(4), analyze_concurrently(served, range(4)), strict=True):
        assert_own_answer(response, i)


def test_a_batch_that_cannot_be_sent_fails_only_its_own_request() -> None:
    """The protocol itself: a job that cannot be pickled, batched with honest ones, shifts no answer."""
    config = PipelineConfig()

    async def scenario() -> list:
        pool = InferencePool(config, 1, Pipeline(config).fingerprint, stall_after_s=60)
        await pool.start()
        batcher = MicroBatcher(pool, max_size=8, max_wait_s=0.05)
        batcher.start()
        try:
            poison = Transcript.model_construct(id="poison", metadata=deep(5000), turns=honest(0)["turns"],
                                                language="auto")
            jobs = [[Job(Transcript.model_validate(honest(i)))] for i in range(6)]
            jobs.insert(3, [Job(poison)])
            first = await asyncio.gather(*(batcher.analyze(j) for j in jobs))
            later = [await batcher.analyze([Job(Transcript.model_validate(honest(i)))]) for i in range(6, 9)]
            return first + later
        finally:
            await batcher.stop()
            await pool.shutdown()

    outcomes = [o for (o,) in asyncio.run(scenario())]
    assert outcomes[3].unprocessable and outcomes[3].json is None
    honest_ids = [json.loads(o.json)["id"] for k, o in enumerate(outcomes) if k != 3]
    assert honest_ids == [f"honest-{i}" for i in range(9)]


def test_unpaired_surrogates_are_repaired_in_text_and_refused_in_ids(served: Served) -> None:
    headers = {"X-API-Key": served.read_only_key, "Content-Type": "application/json"}
    text = '{"id": "s", "turns": [{"speaker": "customer", "text": "ab\\ud800cd"}]}'
    repaired = served.client.post("/v1/analyze", content=text, headers=headers)
    assert repaired.status_code == 200, repaired.text
    assert repaired.json()["utterances"][0]["text"] == "ab\ufffdcd"
    identifier = '{"id": "s\\ud800", "turns": [{"speaker": "customer", "text": "hi"}]}'
    refused = served.client.post("/v1/analyze", content=identifier, headers=headers)
    assert refused.status_code == 422, refused.text


def test_journeys_of_contacts_without_start_times(served: Served) -> None:
    undated = {"id": "undated-1", "order_id": "o-undated",
               "turns": [{"speaker": "customer", "text": "退款还没到"}, {"speaker": "agent", "text": "我帮您查一下"}]}
    assert served.client.post("/v1/transcripts", json=undated, headers={"X-API-Key": served.key}).status_code == 201
    response = served.client.get("/v1/journeys/o-undated", headers={"X-API-Key": served.key})
    assert response.status_code == 200, response.text
    summary = response.json()["summary"]
    assert summary["contacts"] == 1 and summary["span_days"] is None and summary["first_contact"] is None


def test_fuzzing_with_honest_callers_alongside_finds_no_5xx_and_no_swapped_answer(tmp_path: Path) -> None:
    """scripts/fuzz_api.py, briefly: hostile bodies and schemathesis cases while honest callers check answers."""
    report = tmp_path / "fuzz.json"
    done = subprocess.run([sys.executable, "scripts/fuzz_api.py", "--seconds", "15", "--examples", "3",
                           "--honest", "2", "--json", str(report)], capture_output=True, text=True, timeout=600)
    counts = json.loads(report.read_text(encoding="utf-8"))
    assert done.returncode == 0, counts["examples_of_failures"]
    assert counts["server_errors"] == 0 and counts["wrong_answers"] == 0 and counts["ready_at_end"]
    assert counts["requests"]["honest"] > 20 and counts["requests"]["hostile"] > 10
    assert counts["requests"]["schemathesis"] > 20
