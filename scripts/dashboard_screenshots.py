"""Screenshots of the dashboard for the README and docs: a real server over a copy of a scored archive, headless
Chromium (Debian's ``/usr/bin/chromium``) driven by Playwright.

    journeylens demo                      # writes journeylens-demo.duckdb
    python scripts/dashboard_screenshots.py --db journeylens-demo.duckdb --out docs/img

Writes, at 1440 × 900:

- ``dashboard-overview.png``: the first screen: which stage hurts most, with the customers' own words, the
  journey map and the frequency × pain quadrant;
- ``dashboard-drilldown.png``: after a click on that stage: its trend with the change date 2026-09-15, its
  issue types, pain drivers and evidence, and the transcript behind the first evidence, customer turns coloured
  by emotion;
- ``dashboard-journey.png``: the customer-view journey of order 614652615571 (contacts, promises, broken ones);
- ``dashboard-en.png``: the first screen in English;

and prints the page load time (navigation start → every chart drawn) of a fresh and of a cached load.

``--timing-only`` takes no screenshots and measures the page load as ``tests/test_dashboard.py`` does: the first
load after server start (which computes the unfiltered analytics), then ``--loads`` loads in fresh browser
contexts (assets and data over the wire), each followed by one with the assets cached; it prints each time and the
median fresh load:

    python scripts/dashboard_screenshots.py --db journeylens-demo.duckdb --timing-only
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.keys import KeyStore  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
KEY_STORAGE = "journeylens.apiKey"
READY = "() => window.JL && window.JL.timing && document.body.dataset.ready === 'true'"


def load_times(browser, url: str, key: str, loads: int) -> dict:
    """Milliseconds from navigation start to every chart drawn (``JL.timing.firstRender``)."""

    def fresh_context():
        context = browser.new_context(viewport={"width": 1440, "height": 900}, device_scale_factor=1)
        context.add_init_script(f"sessionStorage.setItem({json.dumps(KEY_STORAGE)}, {json.dumps(key)})")
        return context

    def load(context) -> float:
        page = context.new_page()
        page.goto(f"{url}/dashboard")
        page.wait_for_function(READY, timeout=60_000)
        elapsed = page.evaluate("window.JL.timing.firstRender")
        page.close()
        return round(elapsed)

    context = fresh_context()
    first = load(context)
    context.close()
    fresh, cached = [], []
    for _ in range(loads):
        context = fresh_context()
        fresh.append(load(context))
        cached.append(load(context))
        context.close()
    return {"first_after_server_start_ms": first, "fresh_context_ms": fresh,
            "fresh_context_median_ms": sorted(fresh)[len(fresh) // 2], "assets_cached_ms": cached,
            "load_average": list(os.getloadavg())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("journeylens-demo.duckdb"), help="a scored DuckDB store")
    parser.add_argument("--out", type=Path, default=Path("docs/img"), help="folder for the PNG files")
    parser.add_argument("--journey", default="614652615571", help="order or customer id to show")
    parser.add_argument("--change-date", default="2026-09-15", help="change date for the before/after view")
    parser.add_argument("--timing-only", action="store_true", help="measure the page load time, no screenshots")
    parser.add_argument("--loads", type=int, default=3, help="--timing-only: loads in fresh browser contexts")
    args = parser.parse_args()
    if not args.db.is_file():
        parser.error(f"{args.db} does not exist: run `journeylens demo` first")
    args.out.mkdir(parents=True, exist_ok=True)
    shots = {}
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "store.duckdb"
        shutil.copy(args.db, db)
        _, key = KeyStore(Path(folder) / "store.keys.json").create("screenshots", read_only=True)
        with (ServerProcess(db, Path(folder) / "server.log", startup_timeout_s=300) as server,
              sync_playwright() as playwright):
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            if args.timing_only:
                print(json.dumps(load_times(browser, server.url, key, args.loads), indent=1))
                browser.close()
                return
            context = browser.new_context(viewport={"width": 1440, "height": 900}, device_scale_factor=1)
            context.add_init_script(f"sessionStorage.setItem({json.dumps(KEY_STORAGE)}, {json.dumps(key)})")
            page = context.new_page()
            timings = {}
            for label in ("fresh", "cached"):
                page.goto(f"{server.url}/dashboard")
                page.wait_for_function(READY, timeout=60_000)
                timings[label] = round(page.evaluate("window.JL.timing.firstRender"))
            page.wait_for_selector("#transcript .turn")
            shots["overview"] = page.screenshot(path=args.out / "dashboard-overview.png")

            # a newcomer clicks the stage the headline names, with a change date set
            page.fill("#change-date", args.change_date)
            page.wait_for_selector("#impact table")
            page.click("#headline-stage")
            stage = page.get_attribute("#headline-stage", "data-stage")
            page.wait_for_selector(f"#drilldown-stage[data-stage={stage}]")
            page.wait_for_function(READY)
            page.wait_for_selector("#transcript .turn")
            page.mouse.move(0, 0)
            card_top = page.evaluate("document.getElementById('drilldown-card').getBoundingClientRect().top")
            page.evaluate("y => window.scrollBy(0, y)", card_top - 8)
            page.wait_for_timeout(300)
            shots["drilldown"] = page.screenshot(path=args.out / "dashboard-drilldown.png")

            page.fill("#journey-form input[name=journey]", args.journey)
            page.click("#journey-form button[type=submit]")
            page.wait_for_selector("#journey-facts")
            page.wait_for_function("() => (document.getElementById('journey-timeline').data || []).length")
            page.evaluate("document.getElementById('journey-summary').closest('section').scrollIntoView()")
            page.wait_for_timeout(300)
            shots["journey"] = page.screenshot(path=args.out / "dashboard-journey.png")

            page.goto(f"{server.url}/dashboard?lang=en")
            page.wait_for_function(READY, timeout=60_000)
            page.wait_for_selector("#transcript .turn")
            shots["en"] = page.screenshot(path=args.out / "dashboard-en.png")
            browser.close()
    sizes = {name: f"{len(png) / 1024:.0f} KB" for name, png in shots.items()}
    print(json.dumps({"page_load_ms": timings, "screenshots": sizes, "folder": str(args.out)}, indent=1))


if __name__ == "__main__":
    main()
