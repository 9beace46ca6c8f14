"""One NEV: ``/v1/analyze``, the transcript view and the analytics over the store give the same number for the
same transcript, with the service's configured emotion weights."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pytest
import yaml

from nlp.analytics.contacts import touchpoint_emotions
from nlp.analytics.nev import nev_table
from nlp.analytics.rankings import rank_stages
from nlp.analytics.settings import AnalyticsSettings
from nlp.analytics.stage_summary import stage_summary
from nlp.config import PipelineConfig
from nlp.pipeline import Pipeline
from nlp.schema.document import AnalyzedTranscript
from nlp.schema.transcript import Transcript
from nlp.store import ScoredRecord, Store, content_hash, rows_for
from service.analysis import analysis_result
from service.keys import KeyStore
from service.records import stored_transcript
from tests.support.server import ServerProcess

# Four customer utterances; the lexicon scorer (pinned here, so that the arithmetic below stays the fixture's
# whatever the default scorer) calls them frustration, frustration, disappointment, anger (all four negative):
# the first two at the delivery stage, the last two at the refund stage.
CONFIG = PipelineConfig(emotion_scorer="lexicon")
LATE_DELIVERY = {
    "id": "c-late-1", "channel": "chat", "business_line": "food_delivery",
    "started_at": "2026-10-01T12:03:00+08:00",
    "turns": [
        {"speaker": "customer", "text": "骑手怎么还没到？我都等了一个小时了，太慢了！"},
        {"speaker": "agent", "text": "非常抱歉，我马上帮您联系骑手"},
        {"speaker": "customer", "text": "饭都凉了，我要退款"},
        {"speaker": "agent", "text": "好的，已经为您申请退款，明天中午之前一定到账"},
        {"speaker": "customer", "text": "太失望了，我要投诉你们！"},
    ],
}
# anger counts fully, frustration half, disappointment a quarter
WEIGHTS = {"anger": -1.0, "frustration": -0.5, "disappointment": -0.25, "gratitude": 1.0}
SETTINGS = AnalyticsSettings(emotion_weights=WEIGHTS)


@pytest.fixture(scope="module")
def analyzed(tmp_path_factory: pytest.TempPathFactory) -> tuple[AnalyzedTranscript, Path]:
    doc = Pipeline(CONFIG).analyze([Transcript.model_validate(LATE_DELIVERY)])[0]
    db = tmp_path_factory.mktemp("nev") / "nev.duckdb"
    with Store(db) as store:
        record = ScoredRecord(doc, "test", "memory", content_hash(doc.transcript))
        store.write_tables(rows_for([record], "run", "fingerprint"), [doc.transcript.id])
    return doc, db


def test_the_fixture_is_what_the_comments_say(analyzed: tuple[AnalyzedTranscript, Path]) -> None:
    doc, _ = analyzed
    customer = [(u.stage, u.emotion, u.sentiment) for u in doc.utterances if u.speaker == "customer"]
    assert [e for _, e, _ in customer] == ["frustration", "frustration", "disappointment", "anger"]
    assert {s for _, _, s in customer} == {"negative"}


def test_analyze_uses_the_emotion_weights(analyzed: tuple[AnalyzedTranscript, Path]) -> None:
    doc, _ = analyzed
    # before: % positive − % negative sentiment labels = −100 whatever the weights
    assert analysis_result(doc, AnalyticsSettings().emotion_weights).summary.nev == -100.0
    result = analysis_result(doc, WEIGHTS)
    assert result.summary.nev == -56.2  # 100 × (−0.5 − 0.5 − 0.25 − 1) / 4 = −56.25
    assert [(s.stage, s.nev) for s in result.segments] == [("delivery", -50.0), ("refund", -62.5)]


def test_analyze_the_transcript_view_and_the_analytics_agree(analyzed: tuple[AnalyzedTranscript, Path]) -> None:
    doc, db = analyzed
    result = analysis_result(doc, WEIGHTS)
    with duckdb.connect(str(db), read_only=True) as con:
        touch = touchpoint_emotions(con, SETTINGS)
        per_contact = nev_table(touch, ["taxonomy"], SETTINGS)  # the one contact of the store
        per_stage = nev_table(touch, ["stage"], SETTINGS).set_index("stage")
        ranking = rank_stages(con, SETTINGS).set_index("stage")
        stored = stored_transcript(con, doc.transcript.id, WEIGHTS)
        demo_table = stage_summary(con, SETTINGS).set_index("stage")  # the table `journeylens demo` prints
    assert stored is not None
    assert round(per_contact["nev"].iloc[0], 1) == result.summary.nev == stored.summary.nev
    for segment, view in zip(result.segments, stored.segments, strict=True):
        assert segment.nev == view.nev == pytest.approx(per_stage.loc[segment.stage, "nev"], abs=0.05)
        assert segment.nev == demo_table.loc[segment.stage, "nev"]
    assert ranking.loc["delivery", "nev"] == pytest.approx(-50.0)  # the reason stage of the contact


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, str]]:
    folder = tmp_path_factory.mktemp("nev_service")
    (folder / "analytics.yaml").write_text(yaml.safe_dump({"emotion_weights": WEIGHTS}), encoding="utf-8")
    _, key = KeyStore(folder / "cx.keys.json").create("platform")
    (folder / "pipeline.yaml").write_text(yaml.safe_dump({"emotion_scorer": "lexicon"}), encoding="utf-8")
    settings = {"analytics_settings": str(folder / "analytics.yaml"), "pipeline_config": str(folder / "pipeline.yaml")}
    with ServerProcess(folder / "cx.duckdb", folder / "server.log", settings) as process, \
            httpx.Client(base_url=process.url, timeout=30, headers={"X-API-Key": key}) as client:
        yield client, key


def test_the_service_answers_with_its_configured_weights(server: tuple[httpx.Client, str]) -> None:
    client, _ = server
    analysis = client.post("/v1/analyze", json=LATE_DELIVERY).json()
    assert analysis["summary"]["nev"] == -56.2
    assert client.post("/v1/transcripts", json=LATE_DELIVERY).status_code == 201
    stored = client.get("/v1/transcripts/c-late-1").json()
    assert stored["summary"]["nev"] == -56.2
    assert [s["nev"] for s in stored["segments"]] == [s["nev"] for s in analysis["segments"]] == [-50.0, -62.5]
    rows = client.get("/v1/stages/ranking").json()["stages"]
    assert next(r for r in rows if r["stage"] == "delivery")["nev"] == pytest.approx(-50.0)


def test_a_stages_nev_interval_depends_on_its_own_contacts_only() -> None:
    """Each group's bootstrap has its own generator (seed and group key): changing the emotions of the contacts of
    stage a, which is resampled first, leaves stage b's interval exactly as it was (with one shared generator, a's
    multinomial draws moved b's resamples), and dropping a altogether (a filter) does too."""
    import pandas as pd

    from nlp.analytics.settings import AnalyticsSettings

    def touchpoints(a_weights: list[float]) -> pd.DataFrame:
        rows = [("a", f"a{i}", w, 2) for i, w in enumerate(a_weights)]
        rows += [("b", f"b{i}", w, 3) for i, w in enumerate([-2.0, -1.0, 0.0, 1.0, -3.0, 0.5] * 5)]
        return pd.DataFrame(rows, columns=["stage", "transcript_id", "weight_sum", "n_utterances"])

    settings = AnalyticsSettings()
    first = nev_table(touchpoints([-1.0, 0.0, 1.0] * 10), ["stage"], settings).set_index("stage")
    changed = nev_table(touchpoints([-1.0, -0.5, 0.0, 0.5, 1.0, 2.0] * 5), ["stage"], settings).set_index("stage")
    alone = nev_table(touchpoints([])[lambda t: t["stage"] == "b"], ["stage"], settings).set_index("stage")
    assert first.loc["a", "nev_low"] != changed.loc["a", "nev_low"]
    for table in (changed, alone):
        assert (table.loc["b", "nev_low"], table.loc["b", "nev_high"]) == (first.loc["b", "nev_low"],
                                                                           first.loc["b", "nev_high"])
