"""Journey analytics on a real DuckDB store: hand-computed NEV and pain, promises, and the planted demo truth."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from nlp.analytics.contacts import contact_facts
from nlp.analytics.filters import Filters
from nlp.analytics.journeys import find_journey
from nlp.analytics.promises import judged_promises
from nlp.analytics.rankings import rank_stages
from nlp.analytics.settings import AnalyticsSettings
from nlp.analytics.trends import _robust_z, impact, stage_trend
from nlp.schema.channels import CHANNELS
from nlp.store import Store

SETTINGS = AnalyticsSettings()
WEIGHT_TOTAL = 16.5  # sum of the default pain weights


def _utterances(transcript_id: str, start: datetime, stage: str, turns: list[tuple]) -> list[dict]:
    """Rows for (speaker, text, sentiment, score, emotion) turns, one sentence each, a minute apart."""
    return [{"transcript_id": transcript_id, "utterance_index": i, "turn_index": i, "sentence_index": 0,
             "speaker": speaker, "speaker_label": "客服小李" if speaker == "agent" else None, "text": text,
             "ts": start.replace(minute=i), "stage": stage, "service_step": "online_agent", "sentiment": sentiment,
             "sentiment_score": score, "emotion": emotion, "segment_index": 0}
            for i, (speaker, text, sentiment, score, emotion) in enumerate(turns)]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """Three contacts with known labels, stored in UTC (the business zone is +08:00).

    c1 (order O1, delivery): customer anger −0.8 "我要投诉", frustration −0.6, gratitude +0.7; the agent
    promises a call back within 24 hours at 10:01 local on 1 Sep.
    c2 (order O1 again, 2 Sep 11:00 local, after that deadline): customer "我又来了" neutral 0.0, then
    disappointment −0.5.
    c3 (order O2, refund): satisfaction +0.6, neutral 0.0.
    """
    c1 = datetime(2026, 9, 1, 2, 0)  # 10:00 +08:00
    c2 = datetime(2026, 9, 2, 3, 0)  # 11:00 +08:00
    c3 = datetime(2026, 9, 3, 2, 0)
    utterances = (
        _utterances("c1", c1, "delivery", [
            ("customer", "骑手怎么还没到，我要投诉", "negative", -0.8, "anger"),
            ("agent", "我们会在24小时内给您回电", None, None, None),
            ("customer", "太慢了", "negative", -0.6, "frustration"),
            ("customer", "好的谢谢", "positive", 0.7, "gratitude")])
        + _utterances("c2", c2, "delivery", [
            ("customer", "我又来了", "neutral", 0.0, "neutral"),
            ("agent", "抱歉", None, None, None),
            ("customer", "算了吧", "negative", -0.5, "disappointment")])
        + _utterances("c3", c3, "refund", [
            ("customer", "退款到了，很满意", "positive", 0.6, "satisfaction"),
            ("customer", "没别的了", "neutral", 0.0, "neutral")])
    )
    transcripts = [{"transcript_id": tid, "channel": "chat", "started_at": start, "customer_id": "u1",
                    "order_id": order, "business_line": "food_delivery", "taxonomy": "food_delivery",
                    "metadata": json.dumps({"persona": persona}, ensure_ascii=False)}
                   for tid, start, order, persona in (("c1", c1, "O1", "学生"), ("c2", c2, "O1", "学生"),
                                                      ("c3", c3, "O2", "上班族"))]
    segments = [{"transcript_id": tid, "segment_index": 0, "stage": stage, "first_turn": 0, "last_turn": 3}
                for tid, stage in (("c1", "delivery"), ("c2", "delivery"), ("c3", "refund"))]
    promises = [{"transcript_id": "c1", "promise_index": 0, "turn_index": 1, "speaker": "agent",
                 "text": "我们会在24小时内给您回电", "made_at": datetime(2026, 9, 1, 2, 1),
                 "deadline": datetime(2026, 9, 2, 2, 1)}]
    path = tmp_path / "cx.duckdb"
    with Store(path) as s:
        s.write_tables([pa.Table.from_pylist(rows) for rows in (transcripts, utterances, segments, promises, [])],
                       ["c1", "c2", "c3"])
    return path


def test_nev_and_pain_match_the_hand_computation(store: Path) -> None:
    with duckdb.connect(str(store), read_only=True) as con:
        table = rank_stages(con, SETTINGS).set_index("stage")
    # NEV delivery: weights −1 −1 +1 (c1) and 0 −1 (c2) over 5 utterances; refund: +1, 0 over 2.
    assert table.loc["delivery", "nev"] == pytest.approx(-40.0)
    assert table.loc["refund", "nev"] == pytest.approx(50.0)
    # c1: negative share 2/3 (w 2) + complaint threat (w 2); its last third (+0.7) is not negative.
    c1 = 100 * (2 * 2 / 3 + 2 * 1) / WEIGHT_TOTAL
    # c2: unresolved (w 3) + negative share 1/2 (w 2) + worsened (0 − (−0.5)) / 2 (w 1) + repeat contact (w 2)
    #     + effort "又来" 1 of 2 markers (w 1) + it chases a promise whose deadline passed (w 2).
    c2 = 100 * (3 + 2 * 0.5 + 0.25 + 2 + 0.5 + 2) / WEIGHT_TOTAL
    assert table.loc["delivery", "pain"] == pytest.approx((c1 + c2) / 2)
    # c3: only worsened, from +0.6 at the start to 0.0 at the end: (0.6 − 0) / 2 (w 1).
    assert table.loc["refund", "pain"] == pytest.approx(100 * 0.3 / WEIGHT_TOTAL)
    assert table.loc["delivery", "contacts"] == 2 and table.loc["delivery", "share_pct"] == pytest.approx(200 / 3)
    assert table.loc["delivery", "pain_rank"] == 1 and not table.loc["delivery", "reliable"]


def test_impact_compares_before_and_after_with_hand_computed_figures(tmp_path: Path) -> None:
    """Impact on a small store: four delivery contacts before 10 Sep, four after. NEV pools utterances (−50 → +50),
    the repeat rate counts contacts about an order seen within the window (25 % → 0 %), pain and CES are the means
    of ``contact_facts`` (the one definition); Cohen's d on the contacts' own NEV and Cohen's h for the rate are
    computed here by hand; the Bonferroni-widened interval holds the difference, and only NEV and the repeat rate
    of delivery are called changes (the ``all`` rows never are)."""
    import math

    emotions = {"b1": ["anger", "neutral"], "b2": ["anger", "anger"], "b3": ["neutral", "neutral"],
                "b4": ["frustration", "neutral"], "a1": ["gratitude", "neutral"], "a2": ["satisfaction"] * 2,
                "a3": ["neutral", "neutral"], "a4": ["gratitude", "neutral"]}
    starts = {tid: datetime(2026, 9, 1 if tid[0] == "b" else 20, 2 + i, 0) for i, tid in enumerate(emotions)}
    orders = {"b1": "O1", "b2": "O1"}  # b2 comes back about b1's order an hour later: a repeat contact
    utterances = [row for tid, feel in emotions.items() for row in _utterances(tid, starts[tid], "delivery", [
        ("customer", f"第{k}句", "negative" if e in ("anger", "frustration") else "neutral", 0.0, e)
        for k, e in enumerate(feel)])]
    transcripts = [{"transcript_id": tid, "channel": "chat", "started_at": starts[tid], "customer_id": f"u-{tid}",
                    "order_id": orders.get(tid, f"O-{tid}"), "business_line": "food_delivery",
                    "taxonomy": "food_delivery", "metadata": "{}"} for tid in emotions]
    segments = [{"transcript_id": tid, "segment_index": 0, "stage": "delivery", "first_turn": 0, "last_turn": 1}
                for tid in emotions]
    path = tmp_path / "impact.duckdb"
    with Store(path) as s:
        s.write_tables([pa.Table.from_pylist(rows) for rows in (transcripts, utterances, segments, [], [])],
                       list(emotions))
    settings = AnalyticsSettings(min_contacts=4)
    with duckdb.connect(str(path), read_only=True) as con:
        table = impact(con, settings, date(2026, 9, 10))
        facts = contact_facts(con, settings).set_index("transcript_id")
    rows = table[table["stage"] == "delivery"].set_index("metric")
    assert set(table["stage"]) == {"delivery", "all"} and not table.loc[table["stage"] == "all", "changed"].any()
    assert rows["contacts_before"].tolist() == [4] * 4 and rows["contacts_after"].tolist() == [4] * 4
    nev = rows.loc["nev"]
    assert (nev["before"], nev["after"], nev["difference"]) == pytest.approx((-50.0, 50.0, 100.0))
    own_before, own_after = pd.Series([-50.0, -100.0, 0.0, -50.0]), pd.Series([50.0, 100.0, 0.0, 50.0])
    pooled = math.sqrt((3 * own_before.var() + 3 * own_after.var()) / 6)
    assert nev["effect_size"] == pytest.approx((own_after.mean() - own_before.mean()) / pooled)
    assert 0 < nev["low"] <= nev["difference"] <= nev["high"] and nev["changed"] and nev["direction"] == "better"
    repeat = rows.loc["repeat_rate"]
    assert (repeat["before"], repeat["after"], repeat["difference"]) == pytest.approx((25.0, 0.0, -25.0))
    assert repeat["effect_size"] == pytest.approx(2 * math.asin(0.0) - 2 * math.asin(math.sqrt(0.25)))
    assert repeat["low"] <= -25.0 <= repeat["high"] <= 0.0
    for metric in ("pain", "ces"):
        before = facts.loc[["b1", "b2", "b3", "b4"], metric].mean()
        after = facts.loc[["a1", "a2", "a3", "a4"], metric].mean()
        assert (rows.loc[metric, "before"], rows.loc[metric, "after"]) == pytest.approx((before, after))
        assert rows.loc[metric, "difference"] == pytest.approx(after - before)
    assert rows.loc["pain", "difference"] < 0
    level = 1 - (1 - settings.confidence) / 4  # four tests: one stage × four metrics
    with duckdb.connect(str(path), read_only=True) as con:
        wider = impact(con, settings.model_copy(update={"confidence": level}), date(2026, 9, 10))
    assert wider.set_index(["stage", "metric"]).loc[("delivery", "nev"), "low"] < nev["low"]


def test_weights_from_settings_change_the_numbers(store: Path) -> None:
    only_threats = AnalyticsSettings(pain_weights={"complaint_threat": 1.0},
                                     emotion_weights={"gratitude": 1.0, "satisfaction": 1.0})
    with duckdb.connect(str(store), read_only=True) as con:
        table = rank_stages(con, only_threats).set_index("stage")
    assert table.loc["delivery", "pain"] == pytest.approx(50.0)  # c1 threatens, c2 does not
    assert table.loc["delivery", "nev"] == pytest.approx(20.0)  # one positive utterance of five


def test_filters_and_breakdowns(store: Path) -> None:
    with duckdb.connect(str(store), read_only=True) as con:
        students = rank_stages(con, SETTINGS, Filters(metadata={"persona": "学生"}))
        late = rank_stages(con, SETTINGS, Filters(date_from=date(2026, 9, 2)))
        by_persona = rank_stages(con, SETTINGS, by="persona")
    assert set(students["stage"]) == {"delivery"}
    assert late.set_index("stage").loc["delivery", "contacts"] == 1
    assert set(zip(by_persona["group"], by_persona["stage"], strict=True)) == {("学生", "delivery"),
                                                                               ("上班族", "refund")}


def test_promise_broken_by_a_later_contact_after_its_deadline(store: Path) -> None:
    with duckdb.connect(str(store), read_only=True) as con:
        journey = find_journey(con, SETTINGS, "O1")
        assert find_journey(con, SETTINGS, "nobody") is None
    assert journey.summary["contacts"] == 2 and journey.summary["promises_broken"] == 1
    promise = journey.promises.iloc[0]
    assert promise["status"] == "broken" and promise["next_id"] == "c2"
    assert promise["deadline"] == pd.Timestamp("2026-09-02 10:01")  # local time


def test_trend_flags_an_anomalous_week() -> None:
    z = _robust_z(pd.Series([10, 11, 9, 10, 12, 10, 40.0]))
    assert z.iloc[-1] > SETTINGS.anomaly_z and (z.iloc[:-1].abs() < SETTINGS.anomaly_z).all()


def test_demo_rankings_recover_the_planted_extremes(demo_db: Path) -> None:
    with duckdb.connect(str(demo_db), read_only=True) as con:
        before_change = rank_stages(con, SETTINGS, Filters(date_to=date(2026, 9, 14)), evidence=0)
        table = rank_stages(con, SETTINGS)
    food = before_change[before_change["taxonomy"] == "food_delivery"].sort_values("pain_rank")
    assert set(food["stage"].head(2)) == {"refund", "review"}  # planted pain 0.85 and 0.80
    hotel = table[table["taxonomy"] == "hotel_stay"]
    assert hotel.sort_values("pain_rank")["stage"].iloc[0] == "confirmation"  # planted 0.92
    real = table[table["stage"] != "other"]
    food_share = real[real["taxonomy"] == "food_delivery"].nlargest(2, "share_pct")["stage"]
    assert set(food_share) == {"receiving", "eating"}
    assert table["evidence"].map(len).max() == 3


def test_demo_impact_finds_the_planted_change_and_nothing_else(demo_db: Path) -> None:
    with duckdb.connect(str(demo_db), read_only=True) as con:
        effect = impact(con, SETTINGS, date(2026, 9, 15))
        weekly = stage_trend(con, SETTINGS, stage="delivery")
    changed = effect[effect["changed"]]
    assert set(changed["stage"]) == {"delivery"}
    pain = effect[(effect["stage"] == "delivery") & (effect["metric"] == "pain")].iloc[0]
    assert pain["changed"] and pain["difference"] < 0 and pain["direction"] == "better"
    assert len(weekly) >= 13 and set(weekly["stage"]) == {"delivery"}


def test_demo_remote_control_journey_has_two_broken_promises(demo_db: Path) -> None:
    with duckdb.connect(str(demo_db), read_only=True) as con:
        journey = find_journey(con, SETTINGS, "614652615571")
    summary = journey.summary
    assert summary["contacts"] == 4 and summary["span_days"] == 5.0
    assert summary["promises_broken"] == 2 and summary["promises_kept"] == 1
    assert summary["third_parties"] == ["安装师傅", "服务站"] and summary["last_csat"] == 2.0


@pytest.mark.parametrize("command", [
    ["rank"], ["trend", "--stage", "delivery", "--period", "day"], ["journey", "614652615571"],
    ["impact", "--change-date", "2026-09-15"], ["kpi"], ["service-journey", "--by", "persona"],
])
def test_cli_reports_print_and_export(demo_db: Path, tmp_path: Path, command: list[str]) -> None:
    output = tmp_path / "report.xlsx"
    no_width = {key: value for key, value in os.environ.items() if key != "COLUMNS"}
    done = subprocess.run([sys.executable, "-m", "nlp.cli", *command, "--db", str(demo_db), "--output", str(output)],
                          capture_output=True, text=True, timeout=300, env=no_width)
    assert done.returncode == 0, done.stderr[-2000:]
    assert output.is_file() and len(pd.read_excel(output, sheet_name=None)) >= 1
    # into a pipe with no width given, tables come out as TSV (issue 20 item 7): a header and rows, nothing cut
    assert any(line.count("\t") >= 1 for line in done.stdout.splitlines()), done.stdout


def test_cli_reports_clear_errors(tmp_path: Path, demo_db: Path) -> None:
    def run(*args: str) -> tuple[int, str]:
        """Exit code and stderr with rich's box drawing and line wrapping undone (long paths wrap)."""
        done = subprocess.run([sys.executable, "-m", "nlp.cli", *args], capture_output=True, text=True,
                              env={**os.environ, "COLUMNS": "200"})
        return done.returncode, " ".join(re.sub(r"[│╭╮╰╯─]", " ", done.stderr).split())

    code, message = run("rank", "--db", str(tmp_path / "none.duckdb"))
    assert code == 2 and "does not exist" in message
    code, message = run("rank", "--db", str(demo_db), "--output", str(tmp_path / "x.pdf"))
    assert code == 2 and "unsupported output" in message
    code, message = run("journey", "no-such-order", "--db", str(demo_db))
    assert code == 1 and "no contact" in message


def test_an_empty_store_gives_empty_reports(tmp_path: Path) -> None:
    with Store(tmp_path / "empty.duckdb") as store:
        con = store.con
        assert rank_stages(con, SETTINGS).empty
        assert rank_stages(con, SETTINGS, Filters(business_line="none"), by="persona", evidence=0).empty
        assert stage_trend(con, SETTINGS, stage="delivery").empty
        assert impact(con, SETTINGS, date(2026, 9, 15)).empty
        assert find_journey(con, SETTINGS, "O1") is None


def _write_store(path: Path, transcripts: list[dict], utterances: list[dict], segments: list[dict],
                 promises: list[dict]) -> Path:
    with Store(path) as s:
        s.write_tables([pa.Table.from_pylist(rows) for rows in (transcripts, utterances, segments, promises, [])],
                       [t["transcript_id"] for t in transcripts])
    return path


def test_a_contact_with_every_pain_component_scores_the_hand_computed_pain(tmp_path: Path) -> None:
    """c1 (order O1) promises a call back within 24 hours; c2, a chat about O1 25 hours later, has all eleven
    pain components: a bot first, then two named agents, the second one escalating; the agent answers the
    customer's first message after 170 s; the customer says 又来 (effort), 说好的 (a chase) and 投诉 (threat)."""
    c1, c2 = datetime(2026, 9, 1, 2, 0), datetime(2026, 9, 2, 3, 0)
    turns = [  # (speaker, label, text, sentiment, score, emotion, service step, seconds after the start)
        ("bot", None, "您好，我是智能助手", None, None, None, "self_service", 0),
        ("customer", None, "我又来了，说好的今天送到", "neutral", 0.0, "neutral", "self_service", 30),
        ("agent", "客服小李", "抱歉让您久等了", None, None, None, "online_agent", 200),
        ("customer", None, "我要投诉", "negative", -0.8, "anger", "online_agent", 230),
        ("agent", "客服小王", "已为您升级处理", None, None, None, "escalation", 260),
        ("customer", None, "算了，太失望了", "negative", -0.6, "disappointment", "escalation", 290),
    ]
    utterances = [
        {"transcript_id": "c1", "utterance_index": 0, "turn_index": 0, "sentence_index": 0, "speaker": "customer",
         "speaker_label": None, "text": "骑手怎么还没到", "ts": c1, "stage": "delivery", "service_step": "online_agent",
         "sentiment": "negative", "sentiment_score": -0.5, "emotion": "anxiety", "segment_index": 0},
        {"transcript_id": "c1", "utterance_index": 1, "turn_index": 1, "sentence_index": 0, "speaker": "agent",
         "speaker_label": "客服小李", "text": "我们会在24小时内给您回电", "ts": c1 + timedelta(minutes=1),
         "stage": "delivery", "service_step": "online_agent", "segment_index": 0},
    ] + [{"transcript_id": "c2", "utterance_index": i, "turn_index": i, "sentence_index": 0, "speaker": speaker,
          "speaker_label": label, "text": text, "ts": c2 + timedelta(seconds=seconds), "stage": "delivery",
          "service_step": step, "sentiment": sentiment, "sentiment_score": score, "emotion": emotion,
          "segment_index": 0}
         for i, (speaker, label, text, sentiment, score, emotion, step, seconds) in enumerate(turns)]
    transcripts = [{"transcript_id": tid, "channel": "chat", "started_at": start, "customer_id": "u1",
                    "order_id": "O1", "business_line": "food_delivery", "taxonomy": "food_delivery"}
                   for tid, start in (("c1", c1), ("c2", c2))]
    segments = [{"transcript_id": tid, "segment_index": 0, "stage": "delivery", "first_turn": 0, "last_turn": 5}
                for tid in ("c1", "c2")]
    promises = [{"transcript_id": "c1", "promise_index": 0, "turn_index": 1, "speaker": "agent",
                 "text": "我们会在24小时内给您回电", "made_at": c1 + timedelta(minutes=1),
                 "deadline": c1 + timedelta(hours=24, minutes=1)}]
    db = _write_store(tmp_path / "cx.duckdb", transcripts, utterances, segments, promises)
    with duckdb.connect(str(db), read_only=True) as con:
        facts = contact_facts(con, SETTINGS).set_index("transcript_id")
    c2_facts = facts.loc["c2"]
    # customer scores 0.0, −0.8, −0.6: first third 0.0, last third −0.6
    expected = {
        "unresolved": 1.0,  # −0.6 < −0.2                                              weight 3
        "negative_share": 2 / 3,  # two of three customer utterances negative            weight 2
        "worsened": 0.3,  # (0.0 − (−0.6)) / 2                                          weight 1
        "repeat_contact": 1.0,  # c1 about O1 25 hours earlier                           weight 2
        "transfer": 1.0,  # 客服小李 and 客服小王                                          weight 1
        "bot_handoff": 1.0,  # the bot's turn 0 before the agents' turns                weight 0.5
        "escalation": 1.0,  # 客服小王's turn is in the escalation step                  weight 1
        "long_wait": 1.0,  # customer at +30 s, first reply at +200 s: 170 s ≥ 120 s (chat) weight 1
        "complaint_threat": 1.0,  # 投诉                                                  weight 2
        "broken_promise": 1.0,  # c1's deadline (1 Sep 02:01 UTC + 24 h) passed before c2  weight 2
        "effort": 0.5,  # one effort marker (又来) of the two that make it full           weight 1
    }
    assert {name: c2_facts[f"x_{name}"] for name in expected} == pytest.approx(expected)
    # Σ w·x = 3 + 2·⅔ + 0.3 + 2 + 1 + 0.5 + 1 + 1 + 2 + 2 + 0.5 = 14.6333…; pain = 100 × 14.6333… / 16.5
    assert c2_facts["pain"] == pytest.approx(88.686869)
    # CES proxy: 1 + 6 × mean(effort 0.5, repeat 1, transfer 1, escalation 1, long wait 1) = 1 + 6 × 0.9
    assert c2_facts["ces"] == pytest.approx(6.4)
    assert c2_facts["max_wait_s"] == pytest.approx(170.0)


def test_every_canonical_channel_has_a_long_wait_threshold() -> None:
    """A channel without a threshold never counts a long wait: sms, social, wechat … once silently had none."""
    assert set(SETTINGS.long_wait_seconds) == set(CHANNELS)
    assert SETTINGS.long_wait_seconds["call"] < SETTINGS.long_wait_seconds["chat"] < SETTINGS.long_wait_seconds[
        "wechat"] < SETTINGS.long_wait_seconds["sms"] < SETTINGS.long_wait_seconds["email"]


def test_a_promise_with_a_fallback_is_broken_only_after_the_fallback(tmp_path: Path) -> None:
    """Promises made at 10:00 (UTC) due at 12:00, each allowing a fallback of 14:00 the next day ("明天送到，要是没货那
    就后天" style); the next contact of each order starts at a different time and never chases the promise."""
    made = datetime(2026, 9, 1, 10, 0)
    deadline, fallback = made + timedelta(hours=2), made + timedelta(days=1, hours=4)
    cases = {  # order: (fallback, next contact's start, expected status)
        "O1": (fallback, deadline + timedelta(hours=2), "kept"),  # after the deadline, before the fallback
        "O2": (fallback, fallback, "kept"),  # exactly at the fallback: not after it
        "O3": (fallback, fallback + timedelta(seconds=1), "broken"),  # one second after the fallback
        "O4": (None, deadline + timedelta(seconds=1), "broken"),  # no fallback: the deadline counts
        "O5": (None, deadline, "kept"),
    }
    transcripts, utterances, segments, promises = [], [], [], []
    for order, (promise_fallback, next_start, _) in cases.items():
        for tid, start, speaker, text in ((f"{order}-a", made, "agent", "明天给您送到，要是没货那就后天"),
                                          (f"{order}-b", next_start, "customer", "你好，我想问一下发票")):
            transcripts.append({"transcript_id": tid, "channel": "chat", "started_at": start, "order_id": order,
                                "taxonomy": "food_delivery"})
            utterances.append({"transcript_id": tid, "utterance_index": 0, "turn_index": 0, "sentence_index": 0,
                               "speaker": speaker, "text": text, "ts": start, "stage": "delivery",
                               "sentiment": "neutral", "sentiment_score": 0.0, "emotion": "neutral",
                               "segment_index": 0})
            segments.append({"transcript_id": tid, "segment_index": 0, "stage": "delivery", "first_turn": 0,
                             "last_turn": 0})
        promises.append({"transcript_id": f"{order}-a", "promise_index": 0, "turn_index": 0, "speaker": "agent",
                         "text": "明天给您送到，要是没货那就后天", "made_at": made, "deadline": deadline,
                         "fallback": promise_fallback})
    db = _write_store(tmp_path / "cx.duckdb", transcripts, utterances, segments, promises)
    with duckdb.connect(str(db), read_only=True) as con:
        judged = judged_promises(con, SETTINGS)
    assert dict(zip(judged["transcript_id"], zip(judged["next_id"], judged["status"], strict=True), strict=True)) == {
        f"{order}-a": (f"{order}-b", status) for order, (_, _, status) in cases.items()}


def test_robust_z_is_0_6745_times_the_distance_from_the_median_over_the_mad() -> None:
    """Median 10, absolute deviations 2 1 0 0 1 2 and the last one's: their median (the MAD) is 1. The threshold
    3.5 is crossed at 10 + 3.5 / 0.6745 = 15.18902…: 15.1891 is just above it, 15.1889 just below."""
    for last, z_last, flagged in ((15.1891, 0.6745 * 5.1891, True), (15.1889, 0.6745 * 5.1889, False)):
        z = _robust_z(pd.Series([8, 9, 10, 10, 11, 12, last]))
        assert z.tolist() == pytest.approx([-1.349, -0.6745, 0.0, 0.0, 0.6745, 1.349, z_last], rel=1e-9)
        assert bool(z.iloc[-1] > SETTINGS.anomaly_z) is flagged
        assert abs(z.iloc[-1] - SETTINGS.anomaly_z) < 1e-4


def test_field_names_in_any_language_and_no_trailing_newline(store: Path) -> None:
    with duckdb.connect(str(store), read_only=True) as con:
        students = rank_stages(con, SETTINGS, Filters(metadata={"人群": "学生"}), by="人群")
    assert students.empty  # a valid field no contact has
    for bad in ("persona\n", "1st", "a b", "a'b", "x" * 65):
        with pytest.raises(ValueError, match="invalid field name"):
            Filters(metadata={bad: "x"}).where("Asia/Shanghai")


def test_cli_bad_field_and_locked_database_are_one_line_errors(store: Path, tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "nlp.cli", *args], capture_output=True, text=True,
                              timeout=300, env={**os.environ, "COLUMNS": "300"})

    chinese = run("rank", "--db", str(store), "--by", "人群", "--where", "人群=学生", "--evidence", "0")
    assert chinese.returncode == 0, chinese.stderr[-2000:]
    for args in (["--by", "persona\n"], ["--where", "persona.city=上海"]):
        refused = run("rank", "--db", str(store), *args)
        assert refused.returncode == 2 and "invalid field name" in refused.stderr
        assert "Traceback" not in refused.stderr
    (tmp_path / "in.jsonl").write_text('{"id": "x", "turns": [{"speaker": "customer", "text": "hi"}]}\n')
    with duckdb.connect(str(store)):  # another process holds the write lock
        for args in (["rank", "--db", str(store)], ["score", str(tmp_path / "in.jsonl"), "--db", str(store)]):
            locked = run(*args)
            assert locked.returncode == 1, locked.stderr[-2000:]
            assert "Traceback" not in locked.stderr and "╭" not in locked.stderr
            last_line = locked.stderr.strip().splitlines()[-1]  # after score's progress bar
            assert last_line.startswith(f"error: cannot open {store}: Could not set lock on file")
