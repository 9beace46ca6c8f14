"""The dashboard in a real browser (Debian's headless Chromium driven by Playwright) on a real server over the
scored demo archive; the touchpoints route behind its service and process levels; ``journeylens report``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import openpyxl
import pytest

from service.keys import KeyStore
from tests.support.server import ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
KEY_STORAGE = "journeylens.apiKey"
ORDER = "614652615571"  # the 618 projector story: four contacts, two broken promises


@pytest.fixture(scope="module")
def server(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, read-only key) of a server over a copy of the scored demo archive."""
    folder = tmp_path_factory.mktemp("dashboard")
    db = folder / "demo.duckdb"
    shutil.copy(demo_db, db)
    _, key = KeyStore(folder / "demo.keys.json").create("dashboard", read_only=True)
    with ServerProcess(db, folder / "server.log", startup_timeout_s=300) as running:  # slow on a busy machine
        yield running.url, key


@pytest.fixture(scope="module")
def api(server: tuple[str, str]) -> Iterator[httpx.Client]:
    url, key = server
    with httpx.Client(base_url=url, timeout=60, headers={"X-API-Key": key}) as client:
        yield client


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        missing = "Debian chromium is not installed (.ci/run installs it: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{missing}; under CI the browser tests must run, not be skipped")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Console:
    """Errors a page reported: console errors, uncaught exceptions, failed requests."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page) -> None:
        page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e} {getattr(e, 'stack', '')}"))
        page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url} {r.failure}"))


def ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def busiest_taxonomy(stages: list[dict]) -> str:
    volume: dict[str, int] = {}
    for row in stages:
        volume[row["taxonomy"]] = volume.get(row["taxonomy"], 0) + row["contacts"]
    return max(volume, key=volume.get)


def chart_points(page, chart_id: str) -> list[int]:
    """Points per plotly trace of a chart (x values of the traces plotly drew)."""
    return page.evaluate("id => (document.getElementById(id).data || []).map(t => (t.x && t.x[0] && Array.isArray("
                         "t.x[0]) ? t.x[1] : t.x || []).filter(v => v !== null).length)", chart_id)


# -- the page and its assets --------------------------------------------------------------------------------------
def test_page_and_assets_are_served_without_a_key_and_cached(server: tuple[str, str]) -> None:
    url, _ = server
    page = httpx.get(f"{url}/dashboard")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page.text)
    assert any("plotly-basic.min.js" in s for s in sources) and not any(s.startswith(("http:", "https:", "//"))
                                                                  for s in sources)
    plotly = httpx.get(f"{url}/{next(s for s in sources if 'plotly' in s)}", headers={"Accept-Encoding": "gzip"})
    assert plotly.status_code == 200 and plotly.headers["content-encoding"] == "gzip"
    assert "immutable" in plotly.headers["cache-control"] and plotly.content.startswith(b"/**\n* plotly.js (basic")
    again = httpx.get(f"{url}/dashboard/assets/vendor/plotly-basic.min.js",
                      headers={"If-None-Match": plotly.headers["etag"]})
    assert again.status_code == 304
    assert httpx.get(f"{url}/dashboard/assets/../../pyproject.toml").status_code == 404
    assert httpx.get(f"{url}/dashboard/assets/secret.js").status_code == 404
    assert httpx.get(f"{url}/v1/stages/ranking").status_code == 401  # the data still needs a key


# -- GET /v1/touchpoints ------------------------------------------------------------------------------------------
def test_service_level_touchpoints_per_service_step(api: httpx.Client) -> None:
    body = ok(api.get("/v1/touchpoints", params={"taxonomy": "food_delivery"}))
    steps = body["touchpoints"]
    assert body["level"] == "service" and body["filters"]["taxonomy"] == "food_delivery"
    assert [s["step_order"] for s in steps] == sorted(s["step_order"] for s in steps)
    names = {s["service_step"] for s in steps}
    assert {"self_service", "online_agent", "phone_agent", "escalation"} <= names
    contacts = sum(r["contacts"] for r in ok(api.get("/v1/stages/ranking", params={
        "taxonomy": "food_delivery", "evidence": 0}))["stages"])
    for step in steps:
        assert 0 < step["contacts"] <= contacts
        assert step["share_pct"] == pytest.approx(100 * step["contacts"] / contacts)
        assert step["nev"] is None or -100 <= step["nev"] <= 100
    escalation = next(s for s in steps if s["service_step"] == "escalation")
    assert escalation["pain"] > next(s for s in steps if s["service_step"] == "online_agent")["pain"]


def test_process_level_touchpoints_of_one_stage(api: httpx.Client) -> None:
    body = ok(api.get("/v1/touchpoints", params={"level": "process", "stage": "refund", "taxonomy": "food_delivery"}))
    rows = body["touchpoints"]
    assert body["stage"] == "refund" and rows and {r["stage"] for r in rows} == {"refund"}
    ranking = ok(api.get("/v1/stages/ranking", params={"taxonomy": "food_delivery", "evidence": 0}))["stages"]
    refund = next(r for r in ranking if r["stage"] == "refund")
    for issue_type in {r["issue_type"] for r in rows}:
        steps = [r for r in rows if r["issue_type"] == issue_type]
        assert max(r["contacts"] for r in steps) <= refund["contacts"]
        assert [r["step_order"] for r in steps] == sorted(r["step_order"] for r in steps)
    assert api.get("/v1/touchpoints", params={"level": "galaxy"}).status_code == 422
    by_channel = ok(api.get("/v1/touchpoints", params={"by": "channel", "taxonomy": "hotel_stay"}))["touchpoints"]
    assert {r["group"] for r in by_channel} >= {"chat", "call"}


# -- the page in a browser ----------------------------------------------------------------------------------------
LOAD_TARGET_MS = 1500
BUSY_BY_OTHERS = 0.5  # share of all cores other processes used just before the measurement


def cpu_busy_share(seconds: float = 2.0) -> float:
    """Share of all CPU time (every core) spent busy over ``seconds``, from /proc/stat; taken while this test's
    server and browser are idle, it is what the other processes on the machine use."""
    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = values[3] + values[4]  # idle + iowait
        return sum(values) - idle, sum(values)

    busy0, total0 = sample()
    time.sleep(seconds)
    busy1, total1 = sample()
    return (busy1 - busy0) / max(1, total1 - total0)


def load_time_ms(context, url: str, console: Console) -> float:
    """Navigation start → headline, journey map, quadrant, trend and the first evidence transcript all drawn
    (``JL.timing.firstRender``, taken by the page itself)."""
    page = context.new_page()
    console.watch(page)
    page.goto(f"{url}/dashboard")
    page.wait_for_function("() => window.JL.timing && document.body.dataset.ready === 'true'", timeout=60_000)
    assert page.evaluate("document.getElementById('quadrant').data.length") > 0
    elapsed = page.evaluate("window.JL.timing.firstRender")
    page.close()
    return elapsed


def test_page_load_time(browser, server: tuple[str, str]) -> None:
    """The page loads in ≤ 1.5 s on the demo archive. Runs before any other test asks the server for the
    unfiltered analytics, so the first load includes computing them; then three loads in fresh browser contexts
    (nothing cached in the browser: plotly.js and the data come over the wire) and one with the assets cached.
    The assertion is on the median fresh-context load, on a machine whose other processes leave the cores to it;
    on a machine other jobs keep busy the times are printed and the assertion is skipped, saying so."""
    url, key = server
    console = Console()
    busy = cpu_busy_share() if Path("/proc/stat").is_file() else 0.0

    def fresh_context():
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.add_init_script(f"sessionStorage.setItem({json.dumps(KEY_STORAGE)}, {json.dumps(key)})")
        return context

    context = fresh_context()
    first = load_time_ms(context, url, console)
    context.close()
    fresh = []
    for _ in range(3):
        context = fresh_context()
        fresh.append(load_time_ms(context, url, console))
        cached = load_time_ms(context, url, console)  # same context: assets from the browser's cache
        context.close()
    fresh_median = sorted(fresh)[1]
    print(f"\ndashboard page load, navigation start → all charts drawn: first after server start {first:.0f} ms; "
          f"fresh browser {', '.join(f'{t:.0f}' for t in fresh)} ms (median {fresh_median:.0f}); "
          f"assets cached {cached:.0f} ms; target ≤ {LOAD_TARGET_MS} ms; other processes used {busy:.0%} of the CPU "
          "just before")
    assert console.errors == []
    if busy > BUSY_BY_OTHERS and fresh_median > LOAD_TARGET_MS:
        pytest.skip(f"load time {fresh_median:.0f} ms not judged: other processes kept {busy:.0%} of the CPU busy")
    assert fresh_median <= LOAD_TARGET_MS


def test_dashboard_in_a_browser(browser, server: tuple[str, str], api: httpx.Client, tmp_path: Path) -> None:
    url, key = server
    console = Console()
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    console.watch(page)
    ranking = ok(api.get("/v1/stages/ranking", params={"evidence": 5}))["stages"]
    taxonomy = busiest_taxonomy(ranking)
    mine = [r for r in ranking if r["taxonomy"] == taxonomy]
    journey_stages = [r for r in mine if r["stage"] != "other"]
    first = next(r for r in mine if r["pain_rank"] == 1)

    # the key form: a wrong key is refused and the form comes back; the right one opens the page
    page.goto(f"{url}/dashboard")
    page.wait_for_selector("#key-overlay:not([hidden])")
    page.fill("#key-form input[name=key]", "jl_wrong")
    page.click("#key-form button[type=submit]")
    page.wait_for_selector("#key-message:not([hidden])")
    assert page.is_visible("#key-overlay")
    page.fill("#key-form input[name=key]", key)
    page.click("#key-form button[type=submit]")
    page.wait_for_function("() => window.JL.timing && document.body.dataset.ready === 'true'", timeout=60_000)

    # the headline names the stage the API ranks first, with its evidence
    assert page.get_attribute("#headline-stage", "data-stage") == first["stage"]
    headline = page.inner_text("#headline")
    assert "最痛的阶段" in headline and first["evidence"][0]["text"] in headline
    assert "主要痛点" in page.inner_text("#headline-drivers")  # why: the pain components that weigh most

    # every chart was drawn with data: one bar per stage in journey order, a point per stage, a trend
    bars = chart_points(page, "journey-map")
    assert bars[0] == len(journey_stages) == page.locator("#journey-map .barlayer .point").count()
    assert bars[1] == len(journey_stages)  # the NEV line
    assert sum(chart_points(page, "quadrant")) == len([r for r in journey_stages if r["pain"] is not None])
    assert min(chart_points(page, "trend")[:3]) >= 8  # weekly volume, NEV and pain over three months
    assert page.locator("#stage-table tbody tr").count() == len(mine)
    page.screenshot(path=tmp_path / "dashboard.png")

    # click the delivery bar: its details, evidence and a transcript with customer turns coloured by emotion
    order = page.evaluate("document.getElementById('journey-map').data[0].customdata.map(c => c[0])")
    box = page.locator("#journey-map .barlayer .point").nth(order.index("delivery")).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.wait_for_selector("#journey-map .hoverlayer .hovertext")  # plotly clicks what it hovers
    page.mouse.click(x, y)
    page.wait_for_selector("#drilldown-stage[data-stage=delivery]")
    delivery = next(r for r in mine if r["stage"] == "delivery")
    evidence = page.locator("#evidence li")
    assert evidence.count() == len(delivery["evidence"]) > 0
    assert delivery["evidence"][0]["text"] in evidence.first.inner_text()
    page.wait_for_selector(f"#transcript h4:has-text('{delivery['evidence'][0]['transcript_id']}')")
    coloured = page.locator("#transcript .turn.speaker-customer .utt[class*='emo-']")
    assert coloured.count() > 0
    backgrounds = {coloured.nth(i).evaluate("e => getComputedStyle(e).backgroundColor")
                   for i in range(coloured.count())}
    assert backgrounds and "rgba(0, 0, 0, 0)" not in backgrounds
    assert page.locator("#transcript .evidence-turn").count() == 1
    assert "stage=delivery" in page.url
    page.wait_for_function("() => (document.getElementById('trend').data || []).length")

    # the service journey and process levels
    for level, params in (("service", {}), ("process", {"stage": "delivery"})):
        page.click(f"#level-switch label:has(input[value={level}])")
        expected = ok(api.get("/v1/touchpoints", params={"level": level, "taxonomy": taxonomy, **params}))
        page.wait_for_function(f"() => location.search.includes('level={level}') "
                               "&& document.body.dataset.ready === 'true'")
        drawn = page.evaluate("document.getElementById('journey-map').data.filter(t => t.type === 'bar')"
                              ".reduce((n, t) => n + t.x.length, 0)")
        assert drawn == len(expected["touchpoints"]) > 0

    # a change date: the before/after table and the changed stages
    page.fill("#change-date", "2026-09-15")
    page.wait_for_selector("#impact table")
    assert page.locator("#impact tbody tr").count() == 4
    assert "配送" in page.inner_text("#impact .changed-list")
    assert any(s.get("x0") == "2026-09-15" for s in page.evaluate("document.getElementById('trend').layout.shapes"))

    # the customer-view journey of an order: four contacts, two broken promises
    page.fill("#journey-form input[name=journey]", ORDER)
    page.click("#journey-form button[type=submit]")
    page.wait_for_selector("#journey-facts[data-contacts='4'][data-broken='2']")
    page.wait_for_function("() => document.getElementById('journey-timeline').data")
    assert chart_points(page, "journey-timeline")[0] == 4
    assert page.locator("#journey-details .status-broken").count() == 2
    page.screenshot(path=tmp_path / "dashboard-drilldown.png", full_page=True)

    # English, and the URL reproduces the whole view in a new tab
    page.click("#lang-toggle")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert "Most painful stage" in page.inner_text("#headline")
    shared = page.url
    assert all(part in shared for part in ("stage=delivery", "level=process", "change_date=2026-09-15",
                                           f"journey={ORDER}", "lang=en", f"taxonomy={taxonomy}"))
    other = context.new_page()
    console.watch(other)
    other.add_init_script(f"sessionStorage.setItem({json.dumps(KEY_STORAGE)}, {json.dumps(key)})")
    other.goto(shared)
    other.wait_for_selector("#journey-facts[data-contacts='4']", timeout=60_000)
    other.wait_for_selector("#drilldown-stage[data-stage=delivery]")
    assert other.input_value("#change-date") == "2026-09-15" and other.is_checked("#level-switch input[value=process]")
    assert "Most painful stage" in other.inner_text("#headline")

    # filters reach the API; a filter nothing matches says so; an API error is shown
    other.fill("#filters input[name=from]", "2030-01-01")
    other.click("#filters button[type=submit]")
    other.wait_for_selector("#headline .empty-message")
    assert "from=2030-01-01" in other.url and other.locator("#journey-map .empty-message").count() == 1
    other.fill("#filters input[name=from]", "2026-10-01")
    other.fill("#filters input[name=to]", "2026-09-01")
    other.click("#filters button[type=submit]")
    other.wait_for_selector("#error:not([hidden])")
    assert "422" in other.inner_text("#error")
    # the browser logs the requests refused on purpose above (the wrong key, the reversed dates)
    console.errors = [e for e in console.errors if not re.search(r"status of (401|422)", e)]
    assert console.errors == []
    context.close()


def test_quadrant_plots_each_stage_at_the_apis_share_and_pain(browser, server: tuple[str, str],
                                                             api: httpx.Client) -> None:
    """Point by point, per taxonomy: the dashboard's quadrant puts each stage at x = its share of contacts and
    y = its pain, sized by its contacts, exactly as GET /v1/quadrant gives them."""
    url, key = server
    points = ok(api.get("/v1/quadrant"))["points"]
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_init_script(f"sessionStorage.setItem({json.dumps(KEY_STORAGE)}, {json.dumps(key)})")
    page = context.new_page()
    console = Console()
    console.watch(page)
    for taxonomy in ("food_delivery", "hotel_stay"):
        expected = {p["stage"]: (p["share_pct"], p["pain"], p["contacts"]) for p in points
                    if p["taxonomy"] == taxonomy and p["stage"] != "other" and p["pain"] is not None}
        page.goto(f"{url}/dashboard?taxonomy={taxonomy}")
        page.wait_for_function("() => window.JL.timing && document.body.dataset.ready === 'true'", timeout=60_000)
        plotted = page.evaluate("document.getElementById('quadrant').data.flatMap(t => t.customdata.map("
                                "(c, i) => [c[0], t.x[i], t.y[i], t.marker.size[i]]))")
        assert len(plotted) == len(expected) >= 5, taxonomy
        assert len({stage for stage, *_ in plotted}) == len(plotted)
        for stage, x, y, size in plotted:
            assert (x, y, size) == pytest.approx(expected[stage]), f"{taxonomy}/{stage}: (share %, pain, contacts)"
        # the shares and pains differ, so a chart with its axes swapped cannot pass
        assert any(share != pytest.approx(pain) for share, pain, _ in expected.values())
    context.close()
    assert console.errors == []


def test_categories_per_stage_a_categorys_trend_and_agent_qa(browser, server: tuple[str, str],
                                                             api: httpx.Client) -> None:
    """The categories card shows, per category, the contacts of the taxonomy that matched it and, per stage, the
    API's count; the trend chart plots the API's points of the selected category (another when its row is
    clicked); the QA card each agent's mean score; the category filter reaches every route."""
    url, key = server
    taxonomy = "food_delivery"
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_init_script(f"sessionStorage.setItem({json.dumps(KEY_STORAGE)}, {json.dumps(key)})")
    page = context.new_page()
    console = Console()
    console.watch(page)
    page.goto(f"{url}/dashboard?taxonomy={taxonomy}")
    page.wait_for_function("() => document.body.dataset.categories === 'ready'", timeout=120_000)
    expected = ok(api.get("/v1/categories", params={"taxonomy": taxonomy}))
    matched = sorted((c for c in expected["categories"] if c["contacts"]), key=lambda c: -c["contacts"])
    assert len(matched) >= 5 and page.locator("#categories-table tbody tr").count() == len(matched)
    for category in matched:
        row = page.locator(f"#categories-table tr[data-category='{category['category_id']}']")
        assert row.locator("td[data-stage='']").inner_text() == str(category["contacts"])
    cells = [c for c in expected["by_stage"] if c["stage"] != "other"]
    assert len(cells) >= 20
    for cell in cells:
        shown = page.locator(f"#categories-table tr[data-category='{cell['category_id']}'] "
                             f"td[data-stage='{cell['stage']}']")
        assert shown.inner_text() == str(cell["contacts"]), cell
        assert shown.get_attribute("title") == f"{cell['rate_pct']:.1f}%"

    def plotted() -> tuple[str, list, list, list]:
        return page.evaluate("(() => { const e = document.getElementById('category-trend'); return [e.dataset.category,"
                             " e.data[0].x, e.data[0].y, e.data[1].y]; })()")

    def trend(category: str) -> list[dict]:
        return ok(api.get(f"/v1/categories/{category}/trend", params={"taxonomy": taxonomy}))["points"]

    top = matched[0]["category_id"]  # the most frequent category is shown first
    shown, periods, counts, rates = plotted()
    points = trend(top)
    assert shown == top and len(points) >= 8
    assert (periods, counts) == ([p["period"] for p in points], [p["matched"] for p in points])
    assert rates == pytest.approx([p["rate_pct"] for p in points])
    other = matched[2]["category_id"]
    page.click(f"#categories-table tr[data-category='{other}']")
    page.wait_for_function(f"() => document.getElementById('category-trend').dataset.category === '{other}'")
    shown, periods, counts, _ = plotted()
    assert counts == [p["matched"] for p in trend(other)] and sum(counts) == matched[2]["contacts"]

    qa = ok(api.get("/v1/qa", params={"taxonomy": taxonomy, "limit": 0}))
    assert len(qa["agents"]) >= 8 and page.locator("#qa-table tbody tr").count() == len(qa["agents"])
    for agent in qa["agents"]:
        row = page.locator(f"#qa-table tr[data-agent='{agent['agent_id']}']")
        assert row.locator("td.score").inner_text() == f"{agent['score']:.1f}"
        assert row.locator("td[data-item=greeting]").inner_text() == f"{agent['item_pct']['greeting']:.0f}%"

    # the category filter: every card shows only the contacts that matched it
    page.fill("#filters input[name=category]", "complaint_threat")
    page.click("#filters button[type=submit]")
    page.wait_for_function("() => location.search.includes('category=complaint_threat') "
                           "&& document.body.dataset.ready === 'true'")
    page.wait_for_selector("#categories-table tr[data-category='complaint_threat'].selected, "
                           "#categories-table tr[data-category='complaint_threat']")
    threats = next(c for c in matched if c["category_id"] == "complaint_threat")["contacts"]
    ranking = ok(api.get("/v1/stages/ranking", params={"taxonomy": taxonomy, "category": "complaint_threat",
                                                      "evidence": 0}))["stages"]
    assert sum(r["contacts"] for r in ranking) == threats
    page.wait_for_function(f"() => document.querySelector(\"#categories-table tr[data-category='complaint_threat'] "
                           f"td[data-stage='']\")?.textContent === '{threats}'")
    assert page.locator("#stage-table tbody tr").count() == len(ranking)
    context.close()
    assert console.errors == []


def test_discover_card_shows_the_apis_topics_and_downloads_the_draft(browser, server: tuple[str, str],
                                                                     api: httpx.Client) -> None:
    """The Discover card opened by the URL: one row per topic of GET /v1/discover with the same name, terms, size,
    share, NEV, pain and contacts, emerging topics flagged, 5 expandable examples, the draft taxonomy downloaded as
    the API serves it; the language toggle keeps the card in the URL."""
    url, key = server
    params = {"taxonomy": "food_delivery", "sample": 200, "max_topics": 6, "emerging": "true"}
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    context.add_init_script(f"sessionStorage.setItem({json.dumps(KEY_STORAGE)}, {json.dumps(key)})")
    page = context.new_page()
    console = Console()
    console.watch(page)
    page.goto(f"{url}/dashboard?taxonomy=food_delivery&discover=1&discover_sample=200&discover_topics=6"
              "&discover_emerging=1")
    page.wait_for_function("() => ['ready', 'failed'].includes(document.body.dataset.discover)", timeout=600_000)
    assert page.get_attribute("body", "data-discover") == "ready", page.inner_text("#discover-result")
    expected = ok(api.get("/v1/discover", params=params))  # the same parameters: from the server's cache
    topics = expected["topics"]
    assert topics and page.locator("#discover-table tbody tr").count() == len(topics)
    assert expected["compared_with"] == "food_delivery"
    summary = page.inner_text("#discover-summary")
    assert f"{expected['sampled']:,}" in summary and f"{expected['seen']:,}" in summary

    def number(text: str) -> float:
        return float(text.replace("−", "-").replace("%", "").replace(",", ""))

    for topic in topics:
        row = page.locator(f"#discover-table tr[data-topic='{topic['id']}']")
        assert topic["name"] in row.locator("td.name").inner_text()
        assert row.locator("td.terms").inner_text() == ", ".join(topic["terms"][:4])
        assert row.locator("td.size").inner_text() == str(topic["size"])
        assert number(row.locator("td.share").inner_text()) == pytest.approx(100 * topic["share"], abs=0.051)
        assert number(row.locator("td.nev").inner_text()) == pytest.approx(topic["nev"], abs=0.051)
        assert number(row.locator("td.pain").inner_text()) == pytest.approx(topic["pain"], abs=0.051)
        assert row.locator("td.contacts").inner_text() == str(topic["contacts"])
        assert ("emerging" in (row.get_attribute("class") or "")) == topic["emerging"]
        assert row.locator("td.name .pill").count() == int(topic["emerging"])
        examples = row.locator("td.examples li")
        assert not examples.first.is_visible()  # folded until asked
        row.locator("td.examples summary").click()
        assert examples.first.is_visible()
        assert examples.all_inner_texts() == topic["examples"]
    with page.expect_download() as download:
        page.click("#discover-download")
    assert Path(download.value.path()).read_text(encoding="utf-8") == expected["taxonomy_yaml"]

    page.click("#lang-toggle")
    assert page.inner_text("#discover-title") == "Discover topics"
    assert "emerging" in page.inner_text("#discover-table") or not expected["emerging"]
    assert "discover=1" in page.url and "lang=en" in page.url
    context.close()
    assert console.errors == []


def test_a_transcripts_categories_highlight_their_evidence_utterances(browser, server: tuple[str, str],
                                                                     api: httpx.Client, demo_db: Path) -> None:
    """The transcript view shows a chip per category of GET /v1/transcripts/{id} (the store's categories), marks
    and labels exactly the utterances the API names as each one's evidence, and a click on a chip highlights
    exactly that category's utterances (a second click clears it); the labels follow the language."""
    url, key = server
    with duckdb.connect(str(demo_db), read_only=True) as con:  # a contact with several categories, one of them
        transcript_id = con.execute(  # on more than one utterance
            "SELECT c.transcript_id FROM categories c JOIN transcripts t USING (transcript_id) "
            "WHERE t.taxonomy = 'food_delivery' AND c.utterance_index IS NOT NULL GROUP BY 1 "
            "HAVING count(DISTINCT c.category_id) >= 3 AND count(*) > count(DISTINCT c.category_id) "
            "ORDER BY 1 LIMIT 1").fetchone()[0]
        stored = sorted(con.execute("SELECT category_id, utterance_index FROM categories WHERE transcript_id = ?",
                                    [transcript_id]).fetchall())
    record = ok(api.get(f"/v1/transcripts/{transcript_id}"))
    categories = record["categories"]
    assert sorted((c["id"], i) for c in categories for i in c["utterance_indexes"]) == stored
    text = {u["index"]: u["text"] for u in record["utterances"]}
    expected: dict[int, list[str]] = {}
    for category in categories:
        for index in category["utterance_indexes"]:
            expected.setdefault(index, []).append(category["id"])

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_init_script(f"sessionStorage.setItem({json.dumps(KEY_STORAGE)}, {json.dumps(key)})")
    page = context.new_page()
    console = Console()
    console.watch(page)
    page.goto(f"{url}/dashboard?taxonomy=food_delivery&transcript={transcript_id}")
    page.wait_for_selector(f"#transcript h4:has-text('{transcript_id}')", timeout=120_000)
    chips = page.evaluate("[...document.querySelectorAll('#transcript-categories .cat-chip')].map(e => "
                          "[e.dataset.category, e.firstChild.textContent, e.querySelector('.cat-count').textContent])")
    assert chips == [[c["id"], c["name"].split(" / ")[0], str(len(c["utterance_indexes"]))] for c in categories]
    assert page.evaluate("[...document.querySelectorAll('.cat-chip')].every(e => { const s = getComputedStyle(e); "
                         "return s.color !== s.backgroundColor; })")  # readable (they once inherited white on white)
    marked = page.evaluate("[...document.querySelectorAll('#transcript .utt.cat-match')].map(e => "
                           "[Number(e.dataset.index), e.dataset.categories.split(' '), e.textContent])")
    assert {index: (ids, shown) for index, ids, shown in marked} == {
        index: (ids, text[index]) for index, ids in expected.items()}
    labels = page.evaluate("[...document.querySelectorAll('#transcript .cat-label')].map(e => "
                           "[Number(e.dataset.index), e.dataset.category, e.textContent])")
    names = {c["id"]: c["name"].split(" / ")[0] for c in categories}
    assert sorted(labels) == sorted([index, cid, names[cid]] for index, ids in expected.items() for cid in ids)
    assert page.locator("#transcript .utt.cat-selected").count() == 0

    selected = "[...document.querySelectorAll('#transcript .utt.cat-selected')].map(e => Number(e.dataset.index))"
    for category in categories:
        page.click(f"#transcript-categories .cat-chip[data-category='{category['id']}']")
        assert page.evaluate(selected) == category["utterance_indexes"]
        assert page.get_attribute(f".cat-chip[data-category='{category['id']}']", "aria-pressed") == "true"
        assert page.locator(".cat-chip[aria-pressed=true]").count() == 1
        first = page.locator("#transcript .utt.cat-selected").first  # scrolled into the turn list's view
        box, frame = first.bounding_box(), page.locator("#transcript .turns").bounding_box()
        assert frame["y"] <= box["y"] and box["y"] + box["height"] <= frame["y"] + frame["height"]
    last = categories[-1]["id"]
    page.click(f"#transcript-categories .cat-chip[data-category='{last}']")  # a second click clears
    assert page.evaluate(selected) == [] and page.locator(".cat-chip[aria-pressed=true]").count() == 0

    page.click(f"#transcript-categories .cat-chip[data-category='{categories[0]['id']}']")
    page.click("#lang-toggle")  # English: the names' English part, the highlight kept
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    page.wait_for_selector(f"#transcript h4:has-text('{transcript_id}')")
    shown = page.evaluate("[...document.querySelectorAll('#transcript-categories .cat-chip')].map(e => "
                          "e.firstChild.textContent)")
    assert shown == [c["name"].split(" / ")[1] for c in categories]
    assert page.evaluate(selected) == categories[0]["utterance_indexes"]
    context.close()
    assert console.errors == []


# -- journeylens report -------------------------------------------------------------------------------------------
def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nlp.cli", *args], capture_output=True, text=True, timeout=300)


def test_report_html_is_one_offline_page_with_the_charts(browser, demo_db: Path, tmp_path: Path) -> None:
    output = tmp_path / "report.html"
    done = run_cli("report", "--db", str(demo_db), "--output", str(output))
    assert done.returncode == 0, done.stderr
    html = output.read_text(encoding="utf-8")
    assert "plotly.js (basic - minified) v" in html and "Plotly" in html
    assert all(name in html for name in ("退款售后", "配送", "确认", "待消费"))  # food delivery and hotel stages
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=[\"']?(https?:)?//", html)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    console = Console()
    console.watch(page)
    remote = []
    page.on("request", lambda r: remote.append(r.url) if not r.url.startswith(("file:", "data:", "blob:")) else None)
    page.goto(output.as_uri())
    page.wait_for_function("() => [...document.querySelectorAll('[data-chart]')].every(e => e.data && e.data.length)")
    charts = page.evaluate("[...document.querySelectorAll('[data-chart]')].map(e => e.dataset.chart)")
    sections = page.evaluate("[...document.querySelectorAll('section.taxonomy')].map(e => e.dataset.taxonomy)")
    with duckdb.connect(str(demo_db), read_only=True) as con:
        stored = {name for (name,) in con.execute("SELECT DISTINCT taxonomy FROM transcripts").fetchall()}
    assert set(sections) == stored and {"food_delivery", "hotel_stay"} <= stored  # one section per taxonomy
    assert sorted(set(charts)) == ["journey-map", "quadrant", "service-map", "trend"]
    assert len(charts) == 4 * len(sections)
    points = page.evaluate("[...document.querySelectorAll('[data-chart]')].map(e => e.data.reduce("
                           "(n, t) => n + (t.y || []).filter(v => v !== null).length, 0))")
    assert all(n > 0 for n in points)  # every chart drew data points, not only axes
    assert page.locator(".evidence-table tbody tr").count() > 20
    page.screenshot(path=tmp_path / "report.png")
    page.close()
    assert remote == [] and console.errors == []


def test_report_xlsx_has_a_sheet_per_table(demo_db: Path, tmp_path: Path) -> None:
    output = tmp_path / "report.xlsx"
    done = run_cli("report", "--db", str(demo_db), "--output", str(output), "--taxonomy", "food_delivery")
    assert done.returncode == 0, done.stderr
    book = openpyxl.load_workbook(output, read_only=True)
    assert book.sheetnames == ["rankings", "quadrant", "trends", "evidence", "service_journey"]
    rows = {name: list(book[name].values) for name in book.sheetnames}
    header = rows["rankings"][0]
    stages = [dict(zip(header, r, strict=True)) for r in rows["rankings"][1:]]
    assert {s["taxonomy"] for s in stages} == {"food_delivery"} and len(stages) >= 11
    assert {"refund", "review"} == {s["stage"] for s in stages if s["pain_rank"] in (1, 2)}
    evidence = [dict(zip(rows["evidence"][0], r, strict=True)) for r in rows["evidence"][1:]]
    assert evidence and all(e["text"] and e["transcript_id"] for e in evidence)
    assert len(rows["trends"]) > 11 * 8 and len(rows["quadrant"]) == len(rows["rankings"])
    bad = run_cli("report", "--db", str(demo_db), "--output", str(tmp_path / "report.pdf"))
    assert bad.returncode != 0 and "--output" in bad.stderr
