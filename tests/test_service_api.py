"""The HTTP API, spoken to over real HTTP: a uvicorn server in a child process, scoring with the real pipeline."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import httpx
import psutil
import pytest

from nlp.analytics.settings import AnalyticsSettings
from nlp.categories import DEFAULT_PACKS, load_category_set
from service.keys import KeyStore
from tests.support.server import ServerProcess

PHONE = "13912345678"

LATE_DELIVERY = {
    "id": "c-late-1", "channel": "chat", "business_line": "food_delivery", "customer_id": PHONE,
    "started_at": "2026-10-01T12:03:00+08:00",
    "turns": [
        {"speaker": "customer", "text": "骑手怎么还没到？我都等了一个小时了，太慢了！"},
        {"speaker": "agent", "text": "非常抱歉，我马上帮您联系骑手"},
        {"speaker": "customer", "text": f"饭都凉了，我要退款，有事打我电话{PHONE}"},
        {"speaker": "agent", "text": "好的，已经为您申请退款，明天中午之前一定到账", "ts": "2026-10-01T12:10:00+08:00"},
        {"speaker": "customer", "text": "太失望了，我要投诉你们！"},
    ],
}

HOTEL = {
    "id": "h-1", "channel": "call", "business_line": "hotel",
    "turns": [
        {"speaker": "customer", "text": "我订的酒店到现在还没确认，明天就要入住了，急死了"},
        {"speaker": "agent", "text": "您好，我这边马上帮您联系酒店确认订单"},
        {"speaker": "customer", "text": "好的，谢谢你，帮了大忙"},
    ],
}


@dataclass
class Api:
    server: ServerProcess
    client: httpx.Client
    key: str
    read_only_key: str

    def post(self, path: str, body: object, key: str | None = None, headers: dict | None = None,
             **kwargs) -> httpx.Response:
        return self.client.post(path, json=body, headers={"X-API-Key": key or self.key, **(headers or {})}, **kwargs)

    def get(self, path: str, key: str | None = None, headers: dict | None = None, **kwargs) -> httpx.Response:
        return self.client.get(path, headers={"X-API-Key": key or self.key, **(headers or {})}, **kwargs)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp("service_api")
    keys = KeyStore(folder / "cx.keys.json")
    _, key = keys.create("platform")
    _, read_only_key = keys.create("dashboard", read_only=True)
    settings = {"max_batch_transcripts": 5, "rate_limit_per_second": 1000, "rate_limit_burst": 1000}
    with ServerProcess(folder / "cx.duckdb", folder / "server.log", settings) as server, \
            httpx.Client(base_url=server.url, timeout=30) as client:
        yield Api(server, client, key, read_only_key)


def instants(rows: list[dict]) -> list[dict]:
    """Rows with their ``ts`` as a moment in time rather than text in some offset."""
    return [{**row, "ts": row["ts"] and datetime.fromisoformat(row["ts"])} for row in rows]


def customer_utterances(result: dict) -> list[dict]:
    return [u for u in result["utterances"] if u["speaker"] == "customer"]


def test_analyze_scores_a_chinese_transcript_per_utterance(api: Api) -> None:
    response = api.post("/v1/analyze", LATE_DELIVERY)
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["id"], result["language"], result["taxonomy"]) == ("c-late-1", "zh", "food_delivery")
    first = result["utterances"][0]
    assert first["text"] == "骑手怎么还没到？"
    assert first["stage"] == "delivery" and first["sentiment"] == "negative"
    # the default fast scorer (models/emotion-fast) on this utterance: P(positive) − P(negative) and the calibrated
    # probability of frustration, the likeliest fine emotion inside the likeliest coarse class (anger)
    from nlp.steps.registry import load_emotion_scorer

    (expected,) = load_emotion_scorer("fast").score_texts([first["text"]], ["zh"])
    assert (first["emotion"], first["emotion_coarse"]) == ("frustration", "anger") == (expected.emotion,
                                                                                         expected.emotion_coarse)
    assert (first["sentiment_score"], first["emotion_confidence"]) == (expected.sentiment_score,
                                                                       expected.emotion_confidence)
    assert first["sentiment_score"] < -0.5
    assert all(u["service_step"] == "online_agent" for u in result["utterances"])
    for utterance in result["utterances"]:
        scored = utterance["speaker"] == "customer"
        assert (utterance["sentiment"] is not None) == scored  # only the customer's emotion is scored
    assert any(u["stage"] == "refund" for u in result["utterances"])


def test_analyze_redacts_pii_in_text_and_ids(api: Api) -> None:
    result = api.post("/v1/analyze", LATE_DELIVERY).json()
    assert PHONE not in api.post("/v1/analyze", LATE_DELIVERY).text
    assert any("<PHONE>" in u["text"] for u in result["utterances"])
    assert result["customer_id"].startswith("pii-")


def test_contact_summary_follows_from_the_utterances(api: Api) -> None:
    result = api.post("/v1/analyze", LATE_DELIVERY).json()
    customer = customer_utterances(result)
    positive = sum(u["sentiment"] == "positive" for u in customer)
    negative = sum(u["sentiment"] == "negative" for u in customer)
    summary = result["summary"]
    weights = AnalyticsSettings().emotion_weights  # NEV: nlp.analytics.nev, the service's (default) settings
    assert summary["nev"] == pytest.approx(round(100 * sum(weights.get(u["emotion"], 0) for u in customer)
                                                 / len(customer), 1))
    # five customer utterances, all negative; 我要退款… is the one whose emotion (neutral) weighs 0
    assert (summary["nev"], summary["n_positive"], summary["n_negative"]) == (-80.0, 0, 5)
    assert (positive, negative) == (0, 5)
    # "饭都凉了，我要退款" names two stages (凉了: eating, 退款: refund), so its clauses are two utterances
    assert summary["stages"] == ["delivery", "eating", "refund"]
    assert [s["stage"] for s in result["segments"]] == ["delivery", "eating", "refund"]
    assert [(s["first_turn"], s["start_char"], s["last_turn"], s["end_char"]) for s in result["segments"]] == [
        (0, 0, 1, 14), (2, 0, 2, 5), (2, 5, 4, 12)]
    assert result["segments"][0]["stage_name"] == "配送"
    # the customer's utterances (骑手怎么还没到？ / 我都等了一个小时了，太慢了！ / 饭都凉了， / 我要退款，… /
    # 太失望了，我要投诉你们！): the first and the last third are one utterance each, the first and the last
    assert [u["text"][:4] for u in customer] == ["骑手怎么", "我都等了", "饭都凉了", "我要退款", "太失望了"]
    first, last = customer[0]["sentiment_score"], customer[4]["sentiment_score"]
    trend = summary["emotion_trend"]
    assert (trend["start"], trend["end"]) == (pytest.approx(first, abs=1e-4), pytest.approx(last, abs=1e-4))
    assert trend["change"] == pytest.approx(last - first, abs=2e-4)
    pain = summary["pain_signals"]
    assert pain["negative_at_end"] is True  # "太失望了，我要投诉你们！"
    assert pain["stage_switches"] == 2 and pain["handoffs"] == 0 and pain["escalated"] is False
    assert pain["most_negative_stage"] in {"delivery", "eating", "refund"}
    (promise,) = result["promises"]  # the refund promised "明天中午之前", said on 1 October at 12:10 (+08:00)
    assert promise["turn_index"] == 3 and promise["speaker"] == "agent"
    assert promise["made_at"] == "2026-10-01T12:10:00+08:00" and promise["deadline"] == "2026-10-02T12:00:00+08:00"


def test_hotel_contact_improves_and_taxonomy_can_be_overridden(api: Api) -> None:
    result = api.post("/v1/analyze", HOTEL).json()
    assert result["taxonomy"] == "hotel_stay"  # business line "hotel" maps to it
    # clause stages cut the first turn: "…还没确认，" (confirmation) and "明天就要入住了，急死了", where the date
    # mention 入住 names check_in (a known false split: docs/stages.md, Clause stages)
    assert result["summary"]["stages"] == ["confirmation", "check_in"]
    assert result["summary"]["nev"] == 0.0  # one anxious, one grateful, one neutral customer utterance
    assert result["summary"]["emotion_trend"]["direction"] == "improving"
    assert [u["service_step"] for u in result["utterances"]] == ["ivr_routing", "ivr_routing", "phone_agent",
                                                                  "phone_agent"]
    pain = result["summary"]["pain_signals"]
    # the anxious clause ("急死了" −0.93) is the check_in segment's only customer utterance, so it is the most
    # negative stage; the contact still ends positive
    assert (pain["negative_at_end"], pain["handoffs"], pain["most_negative_stage"]) == (False, 1, "check_in")
    overridden = api.post("/v1/analyze", HOTEL, params={"taxonomy": "food_delivery"}).json()
    assert overridden["taxonomy"] == "food_delivery"
    unknown = api.post("/v1/analyze", HOTEL, params={"taxonomy": "../../etc/passwd"})
    assert unknown.status_code == 422
    assert unknown.json()["type"] == "urn:journeylens:problem:unknown-taxonomy"
    assert "passwd" not in unknown.text  # problems never echo what the caller sent


def test_batch_returns_results_in_order_and_enforces_its_limit(api: Api) -> None:
    batch = [LATE_DELIVERY, HOTEL, {**HOTEL, "id": "h-2"}]
    response = api.post("/v1/analyze/batch", {"transcripts": batch})
    assert response.status_code == 200, response.text
    assert [r["id"] for r in response.json()["results"]] == ["c-late-1", "h-1", "h-2"]
    single = api.post("/v1/analyze", HOTEL).json()
    assert response.json()["results"][1]["summary"] == single["summary"]  # batching changes nothing
    too_many = api.post("/v1/analyze/batch", {"transcripts": [{**HOTEL, "id": f"h-{i}"} for i in range(6)]})
    assert too_many.status_code == 422
    assert too_many.json()["type"] == "urn:journeylens:problem:batch-too-large"


def test_ingest_is_idempotent_and_reads_back_what_it_stored(api: Api) -> None:
    transcript = {**LATE_DELIVERY, "id": "store/1 号"}
    created = api.post("/v1/transcripts", transcript)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "created" and body["analysis"]["id"] == "store/1 号"
    assert created.headers["location"] == body["location"] == "/v1/transcripts/store%2F1%20%E5%8F%B7"

    stored = api.get(body["location"])
    assert stored.status_code == 200, stored.text
    record = stored.json()
    assert record["id"] == "store/1 号" and record["source"] == "api" and record["n_turns"] == 5
    assert PHONE not in stored.text and record["customer_id"].startswith("pii-")
    assert instants(record["utterances"]) == instants(body["analysis"]["utterances"])  # the store keeps UTC
    assert record["segments"] == body["analysis"]["segments"]
    assert record["summary"] == body["analysis"]["summary"]
    assert [p["deadline"] for p in record["promises"]] == ["2026-10-02T04:00:00Z"]  # stored in UTC, same instant

    again = api.post("/v1/transcripts", transcript)
    assert (again.status_code, again.json()["status"], again.json()["analysis"]) == (200, "unchanged", None)

    changed = {**transcript, "turns": [*transcript["turns"], {"speaker": "customer", "text": "算了，谢谢"}]}
    updated = api.post("/v1/transcripts", changed)
    assert (updated.status_code, updated.json()["status"]) == (200, "updated")
    assert api.get(body["location"]).json()["n_turns"] == 6


def test_a_stored_transcript_carries_its_categories_with_their_evidence_utterances(api: Api) -> None:
    """GET /v1/transcripts/{id} lists the categories the store holds for the contact (built-in pack, names from
    its file), each with the indexes of the utterances that matched and of their turns."""
    transcript = {"id": "cat-1", "channel": "call", "business_line": "food_delivery", "turns": [
        {"speaker": "customer", "text": "这已经是第三次打电话了，再不解决我就投诉到12315"},
        {"speaker": "agent", "text": "非常抱歉"},
        {"speaker": "agent", "text": "请告诉我手机号后四位"},
        {"speaker": "customer", "text": "好的"},
        {"speaker": "agent", "text": "对不起让您久等了"},
    ]}
    assert api.post("/v1/transcripts", transcript).status_code == 201
    record = api.get("/v1/transcripts/cat-1").json()
    by_turn = {u["turn_index"]: u["index"] for u in record["utterances"]}
    assert len(by_turn) == len(record["utterances"]) == 5  # one utterance per turn: index == turn here
    names = {d.id: d.name for d in load_category_set(DEFAULT_PACKS).categories}
    assert record["categories"] == [
        {"id": "complaint_threat", "name": names["complaint_threat"], "level": "utterance",
         "utterance_indexes": [0], "turn_indexes": [0]},
        {"id": "repeat_contact", "name": names["repeat_contact"], "level": "utterance",
         "utterance_indexes": [0], "turn_indexes": [0]},
        {"id": "agent_apology", "name": names["agent_apology"], "level": "utterance",
         "utterance_indexes": [1, 4], "turn_indexes": [1, 4]},
        {"id": "agent_empathy", "name": names["agent_empathy"], "level": "utterance",  # 让您久等
         "utterance_indexes": [4], "turn_indexes": [4]},
        {"id": "identity_verification", "name": names["identity_verification"], "level": "utterance",
         "utterance_indexes": [2], "turn_indexes": [2]},
    ]


def test_read_only_keys_may_analyze_and_read_but_not_store(api: Api) -> None:
    assert api.post("/v1/analyze", HOTEL, key=api.read_only_key).status_code == 200
    assert api.get("/v1/taxonomies", key=api.read_only_key).status_code == 200
    refused = api.post("/v1/transcripts", HOTEL, key=api.read_only_key)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:journeylens:problem:read-only-key"
    assert api.get("/v1/transcripts/h-1").status_code == 404  # nothing was stored


def test_unknown_transcript_is_a_404_problem(api: Api) -> None:
    response = api.get("/v1/transcripts/no-such-contact")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:journeylens:problem:transcript-not-found"


def test_taxonomies_and_models_describe_what_scores(api: Api) -> None:
    taxonomies = {t["name"]: t for t in api.get("/v1/taxonomies").json()["taxonomies"]}
    assert set(taxonomies) == {"food_delivery", "hotel_stay", "ecommerce", "car_rental"}
    assert taxonomies["food_delivery"]["default"] is True
    assert taxonomies["hotel_stay"]["business_lines"] == ["hotel"]
    assert [s["id"] for s in taxonomies["food_delivery"]["stages"]][:2] == ["order", "payment"]
    models = api.get("/v1/models").json()
    assert {(m["role"], m["name"]) for m in models["models"]} == {("emotion_scorer", "fast"),
                                                                  ("journey_classifier", "keyword")}
    assert models["fingerprint"] == api.client.get("/readyz").json()["fingerprint"]
    assert set(models["taxonomies"]) == set(taxonomies)


def test_health_readiness_and_metrics(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    assert api.client.get("/readyz").json()["status"] == "ready"
    api.post("/v1/analyze", HOTEL)
    text = api.client.get("/metrics").text
    analyzed = re.search(r'journeylens_http_requests_total\{method="POST",route="/v1/analyze",status="200"\} (\S+)',
                         text)
    assert analyzed and float(analyzed.group(1)) >= 1
    assert re.search(r"journeylens_inference_seconds_count (\S+)", text)
    assert 'journeylens_queue_depth{queue="inference"}' in text
    assert 'journeylens_queue_depth{queue="store_writes"}' in text
    assert "journeylens_http_request_duration_seconds_bucket" in text


def test_request_ids_are_echoed_and_logs_are_json_without_bodies_or_pii(api: Api) -> None:
    response = api.post("/v1/analyze", LATE_DELIVERY, headers={"X-Request-ID": "trace-42"})
    assert response.headers["x-request-id"] == "trace-42"
    generated = api.get("/v1/taxonomies", headers={"X-Request-ID": "bad id with spaces"})
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["x-request-id"])
    api.get(f"/v1/transcripts/{PHONE}")  # an id in a path is logged redacted
    log = api.server.log_path.read_text(encoding="utf-8")
    assert PHONE not in log
    assert "骑手" not in log and "失望" not in log  # no transcript text reaches the log
    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    access = [e for e in entries if e["logger"] == "journeylens.access"]
    assert any(e["request_id"] == "trace-42" and e["route"] == "/v1/analyze" and e["key"] == "platform"
               for e in access)


def test_a_killed_inference_worker_is_replaced(api: Api) -> None:
    assert api.server.process is not None
    children = psutil.Process(api.server.process.pid).children()
    workers = [c for c in children if "spawn_main" in " ".join(c.cmdline())]
    assert len(workers) == 1  # workers = 1 by default
    workers[0].kill()
    workers[0].wait(10)
    statuses = [api.post("/v1/analyze", HOTEL).status_code for _ in range(3)]
    assert set(statuses) <= {200, 503} and statuses[-1] == 200  # at most a batch in flight fails, retryably
    replacements = [c for c in psutil.Process(api.server.process.pid).children()
                    if "spawn_main" in " ".join(c.cmdline())]
    assert len(replacements) == 1 and replacements[0].pid != workers[0].pid
    assert api.client.get("/readyz").status_code == 200


def test_docs_load_their_assets_from_the_service_not_a_cdn(api: Api) -> None:
    page = api.client.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
    assert assets and not [a for a in assets if a.startswith(("http:", "https:", "//"))], assets
    for asset in assets:
        assert api.client.get(asset).status_code == 200, asset


@pytest.mark.parametrize("transcript_id", [".", "..", "a/../b", "1e999"])
def test_any_id_can_be_read_back_from_its_location(api: Api, transcript_id: str) -> None:
    created = api.post("/v1/transcripts", {**HOTEL, "id": transcript_id})
    assert created.status_code == 201, created.text
    assert created.json()["id"] == transcript_id
    back = api.get(created.headers["location"])
    assert back.status_code == 200, back.text
    assert back.json()["id"] == transcript_id


def test_problems_do_not_echo_what_the_caller_sent(api: Api) -> None:
    missing = api.get("/v1/transcripts/call-13812345678")
    assert missing.status_code == 404 and "13812345678" not in missing.text
    bad_where = api.get("/v1/stages/ranking", params={"where": "13812345678"})
    assert bad_where.status_code == 422 and "13812345678" not in bad_where.text


def test_validation_problems_name_the_field_not_the_value(api: Api) -> None:
    body = {"id": "x", "turns": [{"speaker": "火星人13812345678", "text": "hi"}]}
    refused = api.post("/v1/analyze", body)
    assert refused.status_code == 422
    assert "turns.0.speaker" in refused.text
    assert "火星人" not in refused.text and "13812345678" not in refused.text


def test_an_english_turn_longer_than_spacy_takes_is_analyzed(api: Api) -> None:
    huge = {"id": "huge", "turns": [{"speaker": "customer", "text": "the rider is late again. " * 40_001}]}
    response = api.post("/v1/analyze", huge, key=api.read_only_key)  # 1,000,025 characters, under the body limit
    assert response.status_code == 200, response.text
    assert len(response.json()["utterances"]) == 40_001
