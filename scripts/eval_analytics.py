#!/usr/bin/env python3
"""Check the analytics against what the demo generator planted, with the models' labels and with true labels.

Scores a generated archive (or takes a scored DB), then builds a second DB whose utterance stages, segments
and emotions are replaced by the generator's truth ("oracle labels"), so the analytics can be judged apart
from the classifier and emotion scorer. Reports, for both: Spearman correlation of measured stage pain with
planted pain (before the planted change), the stage pairs whose order disagrees though their planted pain
differs by ≥ 0.1, the most frequent stages, what ``impact`` calls changed around the planted change date, and
promise detection against the planted promises.

    python scripts/eval_analytics.py --db /tmp/demo.duckdb --truth data/demo/truth.jsonl.gz
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_demo import STAGES, change_date  # noqa: E402

from nlp.analytics.filters import Filters  # noqa: E402
from nlp.analytics.rankings import rank_stages  # noqa: E402
from nlp.analytics.settings import AnalyticsSettings  # noqa: E402
from nlp.analytics.trends import impact  # noqa: E402
from nlp.steps.emotion.labels import NEGATIVE_EMOTIONS, POSITIVE_EMOTIONS  # noqa: E402

TAXONOMY = {"food_delivery": "food_delivery", "hotel": "hotel_stay"}
ORDER_GAP = 0.1  # stage pairs whose planted pain differs by at least this much must be ordered as planted


def oracle_db(db: Path, truth: list[dict], out: Path) -> None:
    """A copy of ``db`` with true stages, segments and emotions."""
    shutil.copy(db, out)
    turns = pd.DataFrame([{"transcript_id": t["id"], "turn_index": x["turn_index"], "t_stage": x["stage"],
                           "t_emotion": x["emotion"]} for t in truth for x in t["turns"]])
    turns["t_sentiment"] = turns["t_emotion"].map(
        lambda e: None if e is None else "negative" if e in NEGATIVE_EMOTIONS else
        "positive" if e in POSITIVE_EMOTIONS else "neutral")
    turns["t_score"] = turns["t_sentiment"].map({"negative": -0.6, "positive": 0.6, "neutral": 0.0})
    segments = pd.DataFrame([{"transcript_id": t["id"], "segment_index": i, "stage": s["stage"],
                              "first_turn": s["first_turn"], "last_turn": s["last_turn"]}
                             for t in truth for i, s in enumerate(t["segments"])])
    with duckdb.connect(str(out)) as con:
        con.register("truth_turns", turns)
        con.execute("""UPDATE utterances u SET stage = t.t_stage, emotion = t.t_emotion, sentiment = t.t_sentiment,
                       sentiment_score = t.t_score FROM truth_turns t
                       WHERE u.transcript_id = t.transcript_id AND u.turn_index = t.turn_index
                         AND u.speaker = 'customer'""")
        con.execute("""UPDATE utterances u SET stage = t.t_stage FROM truth_turns t
                       WHERE u.transcript_id = t.transcript_id AND u.turn_index = t.turn_index""")
        con.register("truth_segments", segments)
        con.execute("DELETE FROM segments")
        con.execute("INSERT INTO segments BY NAME SELECT * FROM truth_segments")


def evaluate(db: Path, label: str, settings: AnalyticsSettings) -> dict:
    change = change_date()
    with duckdb.connect(str(db), read_only=True) as con:
        before = rank_stages(con, settings, Filters(date_to=change - timedelta(days=1)), evidence=0)
        whole = rank_stages(con, settings, evidence=0)
        effect = impact(con, settings, change)
    report = {"labels": label}
    for line, taxonomy in TAXONOMY.items():
        planted = {stage: spec[1] for stage, spec in STAGES[line].items()}
        rows = before[(before["taxonomy"] == taxonomy) & before["stage"].isin(planted)].set_index("stage")
        measured = rows["pain"]
        spearman = measured.rank().corr(pd.Series(planted).reindex(measured.index).rank())
        disagreements = [f"{a}<{b}" for a in measured.index for b in measured.index
                         if planted[a] - planted[b] >= ORDER_GAP and measured[a] <= measured[b]]
        share = whole[(whole["taxonomy"] == taxonomy) & (whole["stage"] != "other")].nlargest(2, "share_pct")
        top_pain = rows.nlargest(2, "pain").index.tolist()
        report[taxonomy] = {"planted_pain": planted, "pain_spearman_vs_planted": round(float(spearman), 3),
                            "order_gap": ORDER_GAP, "order_disagreements_planted_gap_ge_0.1": disagreements,
                            "top2_pain": top_pain, "top2_frequency": share["stage"].tolist()}
    changed = effect[effect["changed"]]
    report["impact_changed"] = [f"{r.taxonomy}/{r.stage}/{r.metric}:{r.direction}" for r in changed.itertuples()]
    return report


def promise_recall(db: Path, truth: list[dict], settings: AnalyticsSettings) -> dict:
    from nlp.analytics.promises import judged_promises

    with duckdb.connect(str(db), read_only=True) as con:
        found = judged_promises(con, settings)
    found_keys = set(zip(found["transcript_id"], found["turn_index"], strict=True))
    status = dict(zip(zip(found["transcript_id"], found["turn_index"], strict=True), found["status"], strict=True))
    planted = [(t["id"], p["turn_index"], p["kept"]) for t in truth for p in t["promises"]]
    hit = [p for p in planted if (p[0], p[1]) in found_keys]
    broken = [p for p in planted if p[2] is False]
    broken_found = [p for p in broken if status.get((p[0], p[1])) == "broken"]
    return {"planted_promises": len(planted), "detected": len(hit), "recall": round(len(hit) / len(planted), 3),
            "detected_total": len(found), "planted_broken": len(broken), "broken_found": len(broken_found),
            "broken_flagged_total": int((found["status"] == "broken").sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True, help="the demo archive scored by journeylens")
    parser.add_argument("--truth", type=Path, default=Path("data/demo/truth.jsonl.gz"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with gzip.open(args.truth, "rt", encoding="utf-8") as handle:
        truth = [json.loads(line) for line in handle]
    settings = AnalyticsSettings()
    with tempfile.TemporaryDirectory() as tmp:
        oracle = Path(tmp) / "oracle.duckdb"
        oracle_db(args.db, truth, oracle)
        results = [evaluate(args.db, "models", settings), evaluate(oracle, "oracle", settings)]
    results.append({"promises": promise_recall(args.db, truth, settings)})
    text = json.dumps(results, ensure_ascii=False, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
