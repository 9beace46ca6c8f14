"""The service's cache of contact facts: the same answer as the library, computed once per filter set, and never
served after the store changed."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from nlp.analytics.contacts import contact_facts
from nlp.analytics.filters import Filters
from nlp.analytics.settings import AnalyticsSettings
from service.facts_cache import FactsCache


def by_id(facts: pd.DataFrame) -> pd.DataFrame:
    return facts.sort_values("transcript_id").reset_index(drop=True)


def test_facts_are_computed_once_per_filters_and_again_after_a_write(demo_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    shutil.copy(demo_db, db)
    settings = AnalyticsSettings()
    food = Filters(taxonomy="food_delivery")
    cache = FactsCache()
    with duckdb.connect(str(db)) as con:
        first = cache.get(con, settings, food, None)
        pd.testing.assert_frame_equal(by_id(first), by_id(contact_facts(con, settings, food)))
        first["scratch"] = 1  # a caller's change stays its own
        again = cache.get(con, settings, food, None)
        assert "scratch" not in again and (cache.hits, cache.misses) == (1, 1)
        cache.get(con, settings, None, None)
        cache.get(con, settings, food, "channel")
        assert cache.misses == 3  # other filters, another breakdown

        # a transcript re-scored (or stored) changes the store's version: the facts are computed again
        con.execute("UPDATE transcripts SET channel = 'video', scored_at = now() WHERE transcript_id = "
                    "(SELECT min(transcript_id) FROM transcripts WHERE taxonomy = 'food_delivery')")
        fresh = cache.get(con, settings, food, None)
        assert cache.misses == 4 and (fresh["channel"] == "video").sum() == 1 and "video" not in set(again["channel"])


def test_concurrent_requests_for_the_same_filters_compute_once(demo_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    shutil.copy(demo_db, db)
    cache = FactsCache()
    settings = AnalyticsSettings()
    with duckdb.connect(str(db), read_only=True) as con:
        results: list[pd.DataFrame] = []

        def ask() -> None:
            cursor = con.cursor()
            results.append(cache.get(cursor, settings, None, None))
            cursor.close()

        threads = [threading.Thread(target=ask) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(results) == 4 and cache.misses == 1 and cache.hits == 3
    assert all(frame.equals(results[0]) for frame in results)


def test_a_categorize_run_changes_the_version_the_category_filter_reads(tmp_path: Path) -> None:
    """``journeylens categorize`` rewrites only the categories table: the facts of a category filter are computed
    again, not served from before it."""
    from nlp.categories import categorize_store, load_categories
    from tests.qa_fixtures import CONTACTS, write_store

    db = write_store(tmp_path / "store.duckdb", CONTACTS)
    settings, verified = AnalyticsSettings(), Filters(category="identity_verification")
    cache = FactsCache()
    with duckdb.connect(str(db)) as con:
        assert cache.get(con, settings, verified, None).empty  # nothing categorized yet
        categorize_store(con, load_categories("contact_centre"))
        assert list(cache.get(con, settings, verified, None)["transcript_id"]) == ["c1"]
        assert (cache.hits, cache.misses) == (0, 2)


def test_submitted_computations_are_shared_kept_and_their_failures_reported_once(tmp_path: Path) -> None:
    """``StoreCache.submit`` (GET /v1/discover): one computation per key and store version, however many callers
    ask while it runs; kept afterwards; a failure goes to one caller, and the next call computes again."""
    from service.facts_cache import StoreCache
    from tests.qa_fixtures import CONTACTS, write_store

    db = write_store(tmp_path / "store.duckdb", CONTACTS)
    cache = StoreCache()
    release = threading.Event()
    calls: list[str] = []

    def slow() -> str:
        calls.append("slow")
        release.wait(10)
        return "topics"

    with duckdb.connect(str(db)) as con:
        futures = [cache.submit(con, "k", slow) for _ in range(3)]
        assert futures[0] is futures[1] is futures[2] and not futures[0].done()
        release.set()
        assert futures[0].result(10) == "topics" and calls == ["slow"]
        assert cache.submit(con, "k", slow).result(0) == "topics" and calls == ["slow"]  # kept

        def failing() -> str:
            calls.append("failing")
            raise ValueError("too few")

        failed = cache.submit(con, "bad", failing)
        with pytest.raises(ValueError):
            failed.result(10)
        assert cache.submit(con, "bad", failing) is failed  # the failure, handed to the next caller once
        again = cache.submit(con, "bad", failing)
        assert again is not failed
        with pytest.raises(ValueError):
            again.result(10)
        assert calls.count("failing") == 2
        con.execute("UPDATE transcripts SET scored_at = now()")  # a new store version: computed again
        release.clear()
        release.set()
        assert cache.submit(con, "k", slow).result(10) == "topics" and calls.count("slow") == 2
