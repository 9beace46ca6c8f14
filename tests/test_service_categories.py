"""The category and agent QA routes over HTTP, on a real server holding the small QA store (tests/qa_fixtures.py):
per-category counts and rates, a category's trend, the category filter and breakdown of the analytics routes,
and /v1/qa with its Excel export."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import openpyxl
import pytest

from nlp.analytics.qa import qa_tables
from nlp.analytics.settings import AnalyticsSettings
from nlp.categories.qa import load_scorecard
from nlp.store import Store
from service.keys import KeyStore
from tests.qa_fixtures import BUILTIN_CONTACTS, CONTACTS, write_store
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_store(tmp_path_factory.mktemp("service_qa") / "qa.duckdb", CONTACTS + BUILTIN_CONTACTS,
                       categories=True)


@pytest.fixture(scope="module")
def api(store: Path) -> Iterator[httpx.Client]:
    served = store.with_name("served.duckdb")  # the server holds its file; the tests read the original
    shutil.copy(store, served)
    _, key = KeyStore(served.with_suffix(".keys.json")).create("qa", read_only=True)
    with ServerProcess(served, store.with_name("server.log"), startup_timeout_s=300) as server, \
            httpx.Client(base_url=server.url, timeout=60, headers={"X-API-Key": key}) as client:
        yield client


def ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def test_categories_count_contacts_and_rates_in_the_window(api: httpx.Client) -> None:
    # identity_verification: c1 (后四位) and zh (后四位); agent_empathy: c3 and zh; escalation_request: c5 (转人工)
    body = ok(api.get("/v1/categories"))
    assert body["contacts"] == 8
    found = {c["category_id"]: c for c in body["categories"]}
    assert [c["category_id"] for c in body["categories"]][:2] == ["complaint_threat", "escalation_request"]
    assert (found["identity_verification"]["contacts"], found["identity_verification"]["rate_pct"]) == (2, 25.0)
    assert found["identity_verification"]["name"] == "身份核实 / identity verification"
    assert (found["escalation_request"]["contacts"], found["complaint_threat"]["contacts"]) == (1, 0)
    # every contact's reason stage is "other" here (no segments stored): per stage = of the 8 contacts
    stage = {(r["stage"], r["category_id"]): (r["contacts"], r["stage_contacts"], r["rate_pct"])
             for r in body["by_stage"]}
    assert stage[("other", "agent_empathy")] == (2, 8, 25.0)
    assert stage[("other", "escalation_request")] == (1, 8, 12.5)

    window = ok(api.get("/v1/categories", params={"to": "2026-08-16"}))  # without the September zh and en
    found = {c["category_id"]: c for c in window["categories"]}
    assert window["contacts"] == 6 and found["identity_verification"]["contacts"] == 1
    assert found["identity_verification"]["rate_pct"] == 100 * 1 / 6


def test_a_categorys_trend_per_week_and_day(api: httpx.Client) -> None:
    body = ok(api.get("/v1/categories/identity_verification/trend", params={"period": "week"}))
    assert body["name"] == "身份核实 / identity verification"
    # week of 3 Aug: c1 (matched), c2; of 10 Aug: c3–c6; of 7 Sep: zh (matched), en
    assert [(p["period"], p["contacts"], p["matched"], p["rate_pct"]) for p in body["points"]] == [
        ("2026-08-03", 2, 1, 50.0), ("2026-08-10", 4, 0, 0.0), ("2026-09-07", 2, 1, 50.0)]
    day = ok(api.get("/v1/categories/identity_verification/trend", params={"period": "day", "channel": "chat"}))
    assert [p["period"] for p in day["points"]] == ["2026-08-03", "2026-08-10", "2026-09-07"]
    assert api.get("/v1/categories/no_such/trend").status_code == 404
    assert api.get("/v1/categories/identity_verification/trend", params={"period": "month"}).status_code == 422


def test_the_analytics_routes_filter_and_break_down_by_category(api: httpx.Client) -> None:
    body = ok(api.get("/v1/stages/ranking", params={"category": "identity_verification", "evidence": 0}))
    assert body["filters"]["category"] == "identity_verification"
    assert sum(row["contacts"] for row in body["stages"]) == 2
    grouped = ok(api.get("/v1/stages/ranking", params={"by": "category", "evidence": 0}))
    contacts = {}
    for row in grouped["stages"]:
        contacts[row["group"]] = contacts.get(row["group"], 0) + row["contacts"]
    # c1 zh | c3 zh | c2 en | c5 | the rest (c4, c6) matched none
    assert contacts == {"identity_verification": 2, "agent_empathy": 2, "promise_without_time": 2,
                        "escalation_request": 1, "(none)": 2}
    assert api.get("/v1/stages/ranking", params={"category": "Not An Id"}).status_code == 422


def test_agent_qa_over_http_matches_the_library(api: httpx.Client, store: Path) -> None:
    body = ok(api.get("/v1/qa", params={"limit": 3}))
    with Store(store, read_only=True) as opened:
        tables = qa_tables(opened.con, AnalyticsSettings(), load_scorecard())
    assert body["scorecard"]["id"] == "contact_centre" and body["contacts_total"] == len(tables["contacts"]) == 7
    agents = {a["agent_id"]: a for a in body["agents"]}
    for row in tables["agents"].itertuples():
        assert agents[row.agent_id]["score"] == pytest.approx(row.score)
        assert agents[row.agent_id]["item_pct"]["greeting"] == (None if row.greeting_pct != row.greeting_pct
                                                                 else pytest.approx(row.greeting_pct))
    assert agents["z1"]["score"] == 100.0 and agents["e1"]["score"] == pytest.approx(100 * 25 / 85)
    # lowest scores first: c4 (auto-fail) and the others at 0
    assert len(body["contacts"]) == 3 and body["contacts"][0]["score"] == 0.0
    c4 = next(c for c in ok(api.get("/v1/qa"))["contacts"] if c["transcript_id"] == "c4")
    assert c4["auto_fail"] == ["abusive_language"]
    assert c4["evidence"]["abusive_language"] == [{"utterance_index": 2, "text": "你闭嘴"}]
    assert c4["items"]["greeting"] == "pass"
    teams = ok(api.get("/v1/qa", params={"where": "team=t1"}))
    assert [a["agent_id"] for a in teams["agents"]] == ["a1"]
    assert api.get("/v1/qa", params={"scorecard": "nope"}).status_code == 404

    export = api.get("/v1/qa/export.xlsx", params={"to": "2026-08-16"})
    assert export.status_code == 200, export.text
    book = openpyxl.load_workbook(io.BytesIO(export.content), read_only=True)
    assert book.sheetnames == ["contacts", "agents", "teams", "weeks", "items"]
    assert len(list(book["contacts"].values)) == 1 + 5  # header and c1, c2, c3, c4, c6
    assert httpx.get(str(api.base_url.join("/v1/qa"))).status_code == 401
