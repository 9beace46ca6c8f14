"""Alerts (issue 21 part 4): absolute and robust-z conditions per day and week, the exit status, evidence, clear
errors for bad files, and the webhook against a real local HTTP receiver (retries, timeout, no secrets in output)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from nlp.analytics.alerts import AlertFileError, Webhook, evaluate_alerts, parse_alerts, post_webhook, robust_z
from nlp.analytics.settings import AnalyticsSettings
from nlp.store import Store

ROOT = Path(__file__).resolve().parents[1]
DAILY_THREATS = [2, 3, 2, 3, 2, 2, 3, 2, 3, 2, 2, 15]  # of 50 contacts a day; the last day spikes to 30 %

ALERTS = """
alerts:
  - id: complaint_spike
    metric: category_rate
    category: complaint_threat
    robust_z: 3
    direction: up
    history: 8
  - id: complaint_absolute
    metric: category_rate
    category: complaint_threat
    above: 20
  - id: volume_change
    metric: volume
    robust_z: 3
  - id: churn_quiet
    metric: category_rate
    category: churn_threat
    above: 1
  - id: weekly_threats
    metric: category_rate
    category: complaint_threat
    period: week
    above: 50
"""


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 local days (Asia/Shanghai) of 50 contacts, ``DAILY_THREATS[d]`` of them with a complaint threat."""
    path = tmp_path_factory.mktemp("alerts") / "store.duckdb"
    with Store(path) as store:
        for day, threats in enumerate(DAILY_THREATS):
            noon_local_in_utc = datetime(2026, 8, 1, 4) + timedelta(days=day)
            for n in range(50):
                tid = f"d{day:02d}-{n:02d}"
                store.con.execute("INSERT INTO transcripts (transcript_id, started_at) VALUES (?, ?)",
                                  [tid, noon_local_in_utc + timedelta(minutes=n)])
                if n < threats:
                    store.con.execute("INSERT INTO categories VALUES (?, 'complaint_threat', 'utterance', 0, ?, NULL)",
                                      [tid, f"我要投诉 {tid}"])
    return path


def _results(path: Path, text: str, at: date | None = None):
    with Store(path, read_only=True) as store:
        return {r.alert.id: r for r in evaluate_alerts(store.con, parse_alerts(text), AnalyticsSettings(), at)}


def test_a_spike_fires_against_history_and_threshold_and_a_steady_metric_does_not(store_path: Path) -> None:
    results = _results(store_path, ALERTS)
    spike = results["complaint_spike"]
    assert spike.fired and spike.period_start == date(2026, 8, 12) and spike.value == pytest.approx(30.0)
    assert spike.baseline_median == pytest.approx(4.0) and spike.z > 3
    assert {e["transcript_id"] for e in spike.evidence} <= {f"d11-{n:02d}" for n in range(15)}
    assert spike.evidence and spike.evidence[0]["evidence"].startswith("我要投诉")
    assert results["complaint_absolute"].fired and "above 20" in results["complaint_absolute"].reasons[0]
    assert results["volume_change"].status == "ok" and results["volume_change"].z == 0.0  # 50 every day
    assert results["churn_quiet"].status == "ok" and results["churn_quiet"].value == 0.0
    weekly = results["weekly_threats"]  # Monday 2026-08-10 .. Wednesday 08-12: (2 + 2 + 15) / 150
    assert weekly.period_start == date(2026, 8, 10) and weekly.value == pytest.approx(100 * 19 / 150)
    assert not weekly.fired


def test_an_ordinary_day_does_not_fire_and_short_history_is_reported(store_path: Path) -> None:
    results = _results(store_path, ALERTS, at=date(2026, 8, 9))
    assert not results["complaint_spike"].fired and results["complaint_spike"].status == "ok"
    early = _results(store_path, ALERTS, at=date(2026, 8, 3))
    assert early["complaint_spike"].status == "insufficient history"  # two earlier days, fewer than 4


def test_robust_z_uses_median_and_mad() -> None:
    z, median, mad = robust_z(10.0, [1.0, 2.0, 3.0, 4.0, 100.0])
    assert median == 3.0 and mad == 1.0 and z == pytest.approx(7 / 1.4826)
    assert robust_z(6.0, [4.0, 6.0, 4.0, 6.0, 4.0, 4.0, 6.0, 4.0])[0] == pytest.approx(2 / (1.2533 * 0.75))  # MAD 0
    assert robust_z(5.0, [5.0, 5.0, 5.0, 5.0])[0] == 0.0
    assert robust_z(6.0, [5.0, 5.0, 5.0, 5.0])[0] == float("inf")


@pytest.mark.parametrize(("text", "expected"), [
    ("alerts:\n  - id: a\n    metric: category_rate\n    above: 3\n", ["alerts.0", "needs category", "line 2"]),
    ("alerts:\n  - id: a\n    metric: volume\n", ["give a threshold", "line 2"]),
    ("alerts:\n  - id: a\n    metric: volum\n    above: 1\n", ["alerts.0.metric", "line 3"]),
    ("alerts:\n  - id: a\n    metric: volume\n    above: 1\n    histroy: 3\n", ["alerts.0.histroy", "line 5"]),
    ("webhook: {url: ftp://x}\nalerts:\n  - id: a\n    metric: volume\n    above: 1\n", ["webhook.url", "line 1"]),
])
def test_bad_alert_files_name_line_and_fix(text: str, expected: list[str]) -> None:
    with pytest.raises(AlertFileError) as error:
        parse_alerts(text, "a.yaml")
    assert str(error.value).startswith("a.yaml: ")
    for part in expected:
        assert part in str(error.value), str(error.value)


class _Receiver:
    """A real HTTP server on localhost that answers the first ``failures`` requests with 503 (or sleeps
    ``delay`` seconds before answering) and records what it was sent."""

    def __init__(self, failures: int = 0, delay: float = 0.0) -> None:
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
                if delay:
                    threading.Event().wait(delay)
                self.send_response(503 if len(receiver.requests) <= failures else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_alerts_command_exits_3_and_posts_to_a_real_receiver_without_leaking_secrets(store_path: Path,
                                                                                       tmp_path: Path) -> None:
    receiver = _Receiver(failures=1)
    try:
        alerts = tmp_path / "alerts.yaml"
        alerts.write_text(f"webhook:\n  url: http://127.0.0.1:{receiver.port}/hook/s3cr3t-path\n"
                          "  headers: {Authorization: 'Bearer ${ALERT_TOKEN}'}\n  timeout_s: 5\n  retries: 2\n"
                          + ALERTS, encoding="utf-8")
        output = tmp_path / "results.json"
        done = subprocess.run(
            [sys.executable, "-m", "nlp.cli", "alerts", "--db", str(store_path), "--alerts", str(alerts),
             "--output", str(output)], capture_output=True, text=True, cwd=ROOT, timeout=300,
            env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", "ALERT_TOKEN": "tok-123"})
    finally:
        receiver.close()
    assert done.returncode == 3, done.stderr
    assert "complaint_spike" in done.stdout and "d11-" in done.stdout
    assert "delivered" in done.stderr and "attempt 2" in done.stderr
    assert "s3cr3t" not in done.stdout + done.stderr and "tok-123" not in done.stdout + done.stderr
    assert len(receiver.requests) == 2  # one 503, then delivered
    sent = receiver.requests[-1]
    assert sent["path"] == "/hook/s3cr3t-path" and sent["headers"]["Authorization"] == "Bearer tok-123"
    assert {a["id"] for a in sent["body"]["fired"]} == {"complaint_spike", "complaint_absolute"}
    assert json.loads(output.read_text())["results"][0]["status"] == "fired"


def test_nothing_fired_exits_0(store_path: Path, tmp_path: Path) -> None:
    alerts = tmp_path / "quiet.yaml"
    alerts.write_text("alerts:\n  - id: quiet\n    metric: category_rate\n    category: churn_threat\n    above: 1\n")
    done = subprocess.run([sys.executable, "-m", "nlp.cli", "alerts", "--db", str(store_path), "--alerts",
                           str(alerts)], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr


def test_webhook_gives_up_after_timeouts_and_retries() -> None:
    receiver = _Receiver(delay=1.0)
    try:
        hook = Webhook(url=f"http://127.0.0.1:{receiver.port}/x?token=abc", timeout_s=0.2, retries=1)
        delivered, message = post_webhook(hook, {"fired": []}, sleep=lambda s: None)
    finally:
        receiver.close()
    assert not delivered and "2 attempt(s)" in message and "token" not in message and "/x" not in message
    assert len(receiver.requests) == 2


def test_stage_pain_and_nev_alerts_on_a_scored_store(tmp_path: Path) -> None:
    from nlp.ingest.local import score_archive

    archive = tmp_path / "archive.jsonl"
    with gzip.open(ROOT / "data" / "demo" / "archive.jsonl.gz", "rt", encoding="utf-8") as handle:
        archive.write_text("".join(line for _, line in zip(range(200), handle, strict=False)), encoding="utf-8")
    db = tmp_path / "scored.duckdb"
    score_archive([archive], db)
    text = ("alerts:\n  - id: pain\n    metric: stage_pain\n    stage: delivery\n    period: week\n    above: 0\n"
            "  - id: nev\n    metric: nev\n    period: week\n    below: 100\n"
            "  - id: nev_never\n    metric: nev\n    period: week\n    below: -100\n")
    results = _results(db, text)
    assert results["pain"].fired and results["pain"].evidence and "pain" in results["pain"].evidence[0]
    pains = [e["pain"] for e in results["pain"].evidence]
    assert pains == sorted(pains, reverse=True)  # the most painful contacts first
    assert results["nev"].fired and -100 <= results["nev"].value <= 100
    assert not results["nev_never"].fired


def test_a_category_alert_on_a_store_without_categories_says_what_to_run(tmp_path: Path) -> None:
    import duckdb

    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE transcripts (transcript_id VARCHAR, started_at TIMESTAMP)")
    con.execute("INSERT INTO transcripts VALUES ('a', TIMESTAMP '2026-08-01 04:00')")
    con.close()
    with pytest.raises(ValueError, match="journeylens categorize"):
        _results(db, "alerts:\n  - id: a\n    metric: category_rate\n    category: x\n    above: 1\n")
