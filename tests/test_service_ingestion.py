"""Concurrent ingestion over real HTTP: one DuckDB writer, so nothing is duplicated, lost or half-written."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import httpx

from service.keys import KeyStore
from tests.support.server import ServerProcess

N_IDS, POSTS_PER_ID, THREADS = 20, 2, 8


def transcript(i: int) -> dict:
    complaint = ["骑手怎么还没到？", "商家一直不接单", "我的优惠券用不了", "退款怎么还没到账"][i % 4]
    return {"id": f"load-{i:02d}", "channel": "chat", "business_line": "food_delivery",
            "started_at": f"2026-10-{1 + i % 28:02d}T12:00:00+08:00",
            "turns": [{"speaker": "customer", "text": f"{complaint}等了{i + 10}分钟了"},
                      {"speaker": "agent", "text": "您好，我马上帮您处理"},
                      {"speaker": "customer", "text": "好的，谢谢" if i % 2 else "太慢了，我要投诉"}]}


def test_concurrent_posts_store_each_transcript_exactly_once(tmp_path: Path) -> None:
    _, key = KeyStore(tmp_path / "cx.keys.json").create("loader")
    posts = [transcript(i) for i in range(N_IDS) for _ in range(POSTS_PER_ID)]
    random.Random(5).shuffle(posts)
    db = tmp_path / "cx.duckdb"
    settings = {"rate_limit_per_second": 0, "write_batch_max": 8}
    with ServerProcess(db, tmp_path / "server.log", settings) as server:
        def post(body: dict) -> tuple[str, int, str]:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                response = client.post("/v1/transcripts", json=body, headers={"X-API-Key": key})
                return body["id"], response.status_code, response.json().get("status", response.text)

        with ThreadPoolExecutor(THREADS) as pool:
            answers = list(pool.map(post, posts))
        server.stop()  # graceful: queued writes finish and the run is recorded as completed (checked below)

    assert all(code in (200, 201) for _, code, _ in answers), [a for a in answers if a[1] not in (200, 201)]
    by_id: dict[str, list[str]] = {}
    for transcript_id, _, status in answers:
        by_id.setdefault(transcript_id, []).append(status)
    assert len(by_id) == N_IDS
    assert all(sorted(statuses) == ["created", "unchanged"] for statuses in by_id.values()), by_id

    with duckdb.connect(str(db), read_only=True) as con:
        ids = [r[0] for r in con.execute("SELECT transcript_id FROM transcripts ORDER BY 1").fetchall()]
        assert ids == sorted(by_id)  # exactly 20 rows, one per id
        mismatched = con.execute("""
            SELECT t.transcript_id FROM transcripts t
            LEFT JOIN (SELECT transcript_id, count(*) AS n FROM utterances GROUP BY 1) u USING (transcript_id)
            LEFT JOIN (SELECT transcript_id, count(*) AS n FROM segments GROUP BY 1) s USING (transcript_id)
            WHERE u.n IS DISTINCT FROM t.n_utterances OR s.n IS DISTINCT FROM t.n_segments
        """).fetchall()
        assert mismatched == []  # every transcript has all of its utterances and segments, once
        run = con.execute("SELECT command, status, n_read, n_scored, n_skipped, n_quarantined FROM runs").fetchall()
        assert run == [("serve", "completed", N_IDS * POSTS_PER_ID, N_IDS, N_IDS, 0)]
