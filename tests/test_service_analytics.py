"""The analytics routes over HTTP, on a real server holding the scored demo archive."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import httpx
import pytest

from nlp.analytics.rankings import rank_stages
from nlp.analytics.settings import AnalyticsSettings
from service.keys import KeyStore
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def demo_api(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A read-only key's client on a server over a copy of the scored demo archive."""
    folder = tmp_path_factory.mktemp("service_analytics")
    db = folder / "demo.duckdb"
    shutil.copy(demo_db, db)
    _, key = KeyStore(folder / "demo.keys.json").create("dashboard", read_only=True)
    with ServerProcess(db, folder / "server.log") as server, \
            httpx.Client(base_url=server.url, timeout=60, headers={"X-API-Key": key}) as client:
        yield client


def ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def food(rows: list[dict]) -> list[dict]:
    return [row for row in rows if row["taxonomy"] == "food_delivery"]


def test_ranking_matches_the_library_and_the_planted_truth(demo_api: httpx.Client, demo_db: Path) -> None:
    body = ok(demo_api.get("/v1/stages/ranking"))
    stages = food(body["stages"])
    assert {s["stage"] for s in stages if s["pain_rank"] in (1, 2)} == {"refund", "review"}
    with duckdb.connect(str(demo_db), read_only=True) as con:
        expected = rank_stages(con, AnalyticsSettings(), evidence=3)
    expected = expected[expected["taxonomy"] == "food_delivery"]
    assert [s["stage"] for s in stages] == expected["stage"].tolist()
    assert [s["contacts"] for s in stages] == expected["contacts"].tolist()
    assert [s["pain"] for s in stages] == pytest.approx(expected["pain"].tolist())
    top = stages[0]
    assert set(top["pain_components"]) >= {"unresolved", "broken_promise", "effort"}
    assert len(top["evidence"]) == 3 and all(e["text"] and e["transcript_id"] for e in top["evidence"])
    assert body["filters"]["timezone"] == "Asia/Shanghai"


def test_filters_and_breakdowns_narrow_the_contacts(demo_api: httpx.Client) -> None:
    everything = sum(s["contacts"] for s in ok(demo_api.get("/v1/stages/ranking"))["stages"])
    calls = ok(demo_api.get("/v1/stages/ranking", params={"channel": "call", "evidence": 0}))
    september = ok(demo_api.get("/v1/stages/ranking", params={"from": "2026-09-01", "to": "2026-09-30"}))
    assert calls["filters"]["channel"] == "call" and september["filters"]["date_to"] == "2026-09-30"
    assert 0 < sum(s["contacts"] for s in calls["stages"]) < everything
    assert 0 < sum(s["contacts"] for s in september["stages"]) < everything
    by_channel = ok(demo_api.get("/v1/quadrant", params={"by": "channel", "taxonomy": "food_delivery"}))
    assert {p["group"] for p in by_channel["points"]} >= {"chat", "call"}
    assert {p["taxonomy"] for p in by_channel["points"]} == {"food_delivery"}


def test_quadrant_places_every_stage_with_a_recommendation(demo_api: httpx.Client) -> None:
    points = food(ok(demo_api.get("/v1/quadrant"))["points"])
    real = [p for p in points if p["stage"] != "other"]
    assert len(real) >= 8
    assert {p["recommendation"] for p in real} <= {"prevent and improve resolution (priority)",
                                                  "reduce occurrence", "improve resolution", "monitor"}
    for p in real:
        assert (p["frequency"] == "high") == (p["share_pct"] > p["share_median"])
        assert (p["pain_level"] == "high") == (p["pain"] > p["pain_median"])


def test_stage_trend_per_week_and_day(demo_api: httpx.Client) -> None:
    weekly = ok(demo_api.get("/v1/stages/delivery/trend", params={"taxonomy": "food_delivery"}))
    daily = ok(demo_api.get("/v1/stages/delivery/trend", params={"period": "day", "taxonomy": "food_delivery"}))
    assert weekly["period"] == "week" and len(daily["points"]) > len(weekly["points"]) >= 8
    assert all(date.fromisoformat(p["period"]).weekday() == 0 for p in weekly["points"])
    assert sum(p["contacts"] for p in weekly["points"]) == sum(p["contacts"] for p in daily["points"])
    assert {p["stage"] for p in weekly["points"]} == {"delivery"}
    assert demo_api.get("/v1/stages/no_such_stage/trend").status_code == 404
    assert demo_api.get("/v1/stages/delivery/trend", params={"period": "year"}).status_code == 422


def test_impact_flags_the_planted_delivery_change(demo_api: httpx.Client) -> None:
    rows = ok(demo_api.get("/v1/impact", params={"change_date": "2026-09-15"}))["rows"]
    changed = {(r["taxonomy"], r["stage"]) for r in rows if r["changed"] and r["stage"] != "all"}
    assert changed == {("food_delivery", "delivery")}
    nev = next(r for r in rows if r["stage"] == "delivery" and r["metric"] == "nev")
    assert nev["difference"] > 0 and nev["low"] > 0 and nev["direction"] == "better"
    assert demo_api.get("/v1/impact").status_code == 422  # change_date is required


def test_customer_journey_with_broken_promises(demo_api: httpx.Client) -> None:
    body = ok(demo_api.get("/v1/journeys/614652615571"))
    summary = body["summary"]
    assert summary["contacts"] == 4 and summary["promises_broken"] == 2 and summary["promises_kept"] == 1
    assert [c["started_at"] for c in body["contacts"]] == sorted(c["started_at"] for c in body["contacts"])
    assert {p["status"] for p in body["promises"]} == {"broken", "kept"}
    assert all(c["service_path"] for c in body["contacts"])
    missing = demo_api.get("/v1/journeys/no-such-order")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


def test_kpis_against_expectation_and_benchmark(demo_api: httpx.Client) -> None:
    rows = ok(demo_api.get("/v1/kpis"))["kpis"]
    assert {r["kpis"] for r in rows} == {"food_delivery", "hotel_stay"}
    assert all(r["owner"] and r["status"] for r in rows)
    hotel = ok(demo_api.get("/v1/kpis", params={"kpis": "hotel_stay"}))["kpis"]
    assert hotel and {r["taxonomy"] for r in hotel} == {"hotel_stay"}
    assert demo_api.get("/v1/kpis", params={"kpis": "../../etc/passwd"}).status_code == 404


@pytest.mark.parametrize("params", [{"where": "persona"}, {"by": "persona; DROP TABLE t"},
                                    {"where": "bad field=1"}, {"from": "2026-10-01", "to": "2026-09-01"},
                                    {"from": "yesterday"}])
def test_bad_filters_are_problems_not_failures(demo_api: httpx.Client, params: dict) -> None:
    response = demo_api.get("/v1/stages/ranking", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_metadata_filter_and_key_required(demo_api: httpx.Client) -> None:
    students = ok(demo_api.get("/v1/stages/ranking", params={"where": "persona=学生", "evidence": 0}))
    everyone = ok(demo_api.get("/v1/stages/ranking", params={"evidence": 0}))
    assert students["filters"]["metadata"] == {"persona": "学生"}
    assert 0 < sum(s["contacts"] for s in students["stages"]) < sum(s["contacts"] for s in everyone["stages"])
    assert demo_api.get("/v1/quadrant", headers={"X-API-Key": ""}).status_code == 401
