"""Whether the promises made to customers were kept, judged from the next contact of the same journey.

A journey is all contacts about the same order (or the same customer, when a contact names no order). For a
promise stored by the pipeline (``promises`` table), the status is:

- ``broken``: the next contact of the journey starts after the deadline (after the ``fallback`` deadline when
  the promise allowed one), or starts earlier and the customer says a commitment was not kept ("说好的…",
  "到现在都没人来", "you promised");
- ``kept``: a next contact exists and shows neither;
- ``open``: no later contact tells (yet).
"""

from __future__ import annotations

import pandas as pd
from duckdb import DuckDBPyConnection

from nlp.analytics.settings import AnalyticsSettings

_JUDGED = """
WITH journey AS (
    SELECT transcript_id, coalesce(order_id, customer_id) AS journey_key, started_at,
           lead(transcript_id) OVER w AS next_id, lead(started_at) OVER w AS next_started
    FROM transcripts
    WINDOW w AS (PARTITION BY coalesce(order_id, customer_id) ORDER BY started_at, transcript_id)
), judged AS (
    SELECT p.*, j.journey_key, CASE WHEN j.journey_key IS NULL THEN NULL ELSE j.next_id END AS next_id,
           j.next_started
    FROM promises p JOIN journey j USING (transcript_id)
    WHERE {scope}
), chases AS (
    SELECT transcript_id, bool_or(regexp_matches(text, $chase)) AS chases
    FROM utterances WHERE speaker = 'customer' AND transcript_id IN (SELECT next_id FROM judged)
    GROUP BY 1
)
SELECT judged.*, coalesce(c.chases, false) AS next_chases,
       CASE WHEN next_id IS NULL THEN 'open'
            WHEN next_started > coalesce(fallback, deadline) OR coalesce(c.chases, false) THEN 'broken'
            ELSE 'kept' END AS status
FROM judged LEFT JOIN chases c ON c.transcript_id = judged.next_id
ORDER BY made_at, transcript_id, promise_index
"""


def judged_promises(con: DuckDBPyConnection, settings: AnalyticsSettings, scope: str = "TRUE",
                    params: dict | None = None) -> pd.DataFrame:
    """Promises (restricted by the SQL condition ``scope`` on ``p``/``j``) with ``status`` and ``next_id``."""
    return con.execute(_JUDGED.format(scope=scope), {"chase": settings.chase_pattern, **(params or {})}).df()
