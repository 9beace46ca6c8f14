"""Contact facts of recent filter sets, kept while the store is unchanged; and the cache they are kept in.

Every analytics route starts from ``nlp.analytics.contacts.contact_facts`` (one row per contact with its reason
stage and pain), the bulk of its cost (~0.2 s on the 2,400-contact demo, seconds on a million utterances). The
dashboard asks for the ranking, the trend, the touchpoints and the impact of one filter set at once; with this
cache they compute the facts once. An entry is keyed by the filters, the breakdown and the store's version
(number of transcripts and latest ``scored_at``: any stored, updated or re-scored transcript changes it; the same
of the categories table, which ``categorize`` rewrites), so an answer never comes from older data. Concurrent
requests for the same key wait for the one computing it. ``StoreCache`` is that mechanism for any value computed
from the store; ``GET /v1/discover`` keeps its topics in one, computed by ``submit`` in the cache's own thread so
that a computation outlives the request that started it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pandas as pd
from duckdb import DuckDBPyConnection

from nlp.analytics.contacts import contact_facts
from nlp.analytics.filters import Filters
from nlp.analytics.settings import AnalyticsSettings


class StoreCache:
    """``value(con, key, compute)`` → ``compute()``, computed once per key and store version (the last
    ``max_entries`` kept); concurrent calls for the same key and version share one computation."""

    def __init__(self, max_entries: int = 8) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._pending: dict[Hashable, Future] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    @staticmethod
    def store_version(con: DuckDBPyConnection) -> tuple:
        # categories too: ``journeylens categorize`` changes what the category filter and breakdown select
        return tuple(con.execute("SELECT count(*), max(scored_at), (SELECT count(*) FROM categories), "
                                 "(SELECT max(categorized_at) FROM categories) FROM transcripts").fetchall()[0])

    def value(self, con: DuckDBPyConnection, key: Hashable, compute: Callable[[], Any]) -> Any:
        key = (self.store_version(con), key)
        with self._lock:
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:  # one computation per key; the others wait for it
            with self._lock:
                if key in self._entries:
                    self.hits += 1
                    self._entries.move_to_end(key)
                    return self._entries[key]
            value = compute()
            with self._lock:
                self._keep(key, value)
                self._computing.pop(key, None)
            return value

    def submit(self, con: DuckDBPyConnection, key: Hashable, compute: Callable[[], Any]) -> Future:
        """A future of ``compute()`` for this key and store version, computed in the cache's thread (so it goes
        on when the caller stops waiting): done at once when kept, the same future for calls made while it
        computes. ``compute`` opens its own cursor: the caller's may be closed before it runs."""
        key = (self.store_version(con), key)
        with self._lock:
            if key in self._entries:
                self.hits += 1
                self._entries.move_to_end(key)
                done: Future = Future()
                done.set_result(self._entries[key])
                return done
            future = self._pending.get(key)
            if future is not None and future.done():  # it failed: this caller gets the error, the next computes
                return self._pending.pop(key)
            if future is None:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="store-cache")
                future = self._pending[key] = self._pool.submit(self._compute, key, compute)
            return future

    def _compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        value = compute()  # an error leaves the future pending, for the next call to collect
        with self._lock:
            self._keep(key, value)
            self._pending.pop(key, None)
        return value

    def _keep(self, key: Hashable, value: Any) -> None:
        """Store a computed value, dropping the oldest beyond ``max_entries`` (the caller holds the lock)."""
        self.misses += 1
        self._entries[key] = value
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


class FactsCache(StoreCache):
    """``get(con, settings, filters, by)`` → ``contact_facts(...)``, computed once per key and store version."""

    def get(self, con: DuckDBPyConnection, settings: AnalyticsSettings, filters: Filters | None,
            by: str | None) -> pd.DataFrame:
        filters = filters or Filters()
        key = (filters.model_dump_json(), by, settings.model_dump_json())
        facts = self.value(con, key, lambda: contact_facts(con, settings, filters, by))
        return facts.copy(deep=False)  # copy-on-write: callers cannot change the entry
