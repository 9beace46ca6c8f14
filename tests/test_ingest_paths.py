"""Every ingest path (``score``, ``score --engine spark``, ``analyze``, ``score-text``) quarantines a record the
analysis raises on alike: only the culprit, counts that reconcile, one redacted quarantine record, no PII anywhere.

The emotion scorer is poisoned in every Python process the path starts (Spark's workers too) by a
``sitecustomize`` on ``PYTHONPATH``: it raises, quoting the text it was given, on any batch holding the marker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from nlp.readers.common import reason_group

ROOT = Path(__file__).resolve().parents[1]
PHONE, EMAIL = "13812345678", "zhang.san@example.com"
POISONED = f"毒药 请回电{PHONE}或者发邮件到{EMAIL}"  # the marker 毒药 makes the scorer raise
SITECUSTOMIZE = textwrap.dedent("""
    import os
    if os.environ.get("JOURNEYLENS_TEST_POISON"):
        from nlp.steps.emotion.lexicon import LexiconEmotionScorer
        from nlp.steps.emotion.ngram import NgramEmotionScorer

        def poisoned(real_score):
            def score(self, utterances):
                for u in utterances:
                    if "毒药" in u.text:
                        raise RuntimeError(f"poisoned: {u.text}")
                return real_score(self, utterances)
            return score

        for scorer in (LexiconEmotionScorer, NgramEmotionScorer):  # the default scorer and score-text's
            scorer.score = poisoned(scorer.score)
""")
RUNNER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    path, source, output = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    if path == "score":
        from nlp.ingest.local import score_archive
        summary = score_archive([source], output, batch_size=8)
    elif path == "spark":
        from nlp.ingest.spark import score_on_spark
        summary = score_on_spark([source], output, master="local[1]", partitions=1, batch_size=8)
    elif path == "analyze":
        from nlp.ingest.to_jsonl import analyze_files
        summary = analyze_files([source], output, batch_size=8)
    else:
        from nlp.ingest.score_text import score_text_file
        summary = score_text_file(source, output, scorer="lexicon", batch_size=8)
    c = summary.counts
    print(json.dumps({"counts": [c.read, c.scored, c.quarantined, c.skipped, c.replaced, c.repaired],
                      "reasons": c.reasons, "quarantine": str(summary.quarantine_path)}, ensure_ascii=False))
""")


def transcript(tid: str, text: str) -> dict:
    return {"id": tid, "channel": "chat", "started_at": "2026-10-01T12:00:00",
            "turns": [{"speaker": "customer", "text": text}, {"speaker": "agent", "text": "您好，我帮您查一下"}]}


def write_input(folder: Path, path: str) -> Path:
    """Three records, the second poisoned (line 2)."""
    texts = ["骑手怎么还没到", POISONED, "谢谢，服务很好"]
    if path == "score-text":
        records = [{"id": f"r{i}", "text": text} for i, text in enumerate(texts, start=1)]
    else:
        records = [transcript(f"c{i}", text) for i, text in enumerate(texts, start=1)]
    source = folder / "in" / "calls.jsonl"
    source.parent.mkdir()
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return source


def written(output: Path) -> tuple[str, set[str]]:
    """Everything the path wrote as text (a database or Parquet tables as their rows), and the ids kept."""
    if output.suffix == ".duckdb":
        with duckdb.connect(str(output), read_only=True) as con:
            tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
            text = "\n".join(str(con.execute(f"SELECT * FROM {t}").fetchall()) for t in tables)
            ids = {i for (i,) in con.execute("SELECT transcript_id FROM transcripts").fetchall()}
        return text, ids
    if output.is_dir():  # Spark: one Parquet folder per table
        import pyarrow.dataset as ds

        tables = {p.name: ds.dataset(p, partitioning="hive").to_table().to_pylist()
                  for p in output.iterdir() if p.is_dir()}
        return str(tables) + (output / "_journeylens_run.json").read_text(encoding="utf-8"), {
            row["transcript_id"] for row in tables["transcripts"]}
    lines = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    return output.read_text(encoding="utf-8"), {row.get("transcript_id", row.get("id")) for row in lines}


def quarantined(path: Path) -> list[dict]:
    if path.is_dir():
        import pyarrow.dataset as ds

        return ds.dataset(path).to_table().to_pylist()
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


PATHS = {  # path: (output name, kept ids, the reason's stage, the name its quarantine is found under)
    "score": ("cx.duckdb", {"c1", "c3"}, "pipeline error", "cx.duckdb.quarantine.jsonl"),
    "spark": ("parquet", {"c1", "c3"}, "pipeline error", "parquet/quarantine"),
    "analyze": ("out.jsonl", {"c1", "c3"}, "pipeline error", "out.jsonl.quarantine.jsonl"),
    "score-text": ("out.jsonl", {"r1", "r3"}, "scoring error", "out.jsonl.quarantine.jsonl"),
}


@pytest.mark.parametrize("path", list(PATHS))
def test_every_path_quarantines_only_the_poisoned_record_redacted_with_counts_reconciled(tmp_path: Path,
                                                                                         path: str) -> None:
    if path == "spark":
        pytest.importorskip("pyspark")
    name, kept_ids, stage, quarantine_name = PATHS[path]
    source, output = write_input(tmp_path, path), tmp_path / name
    poison = tmp_path / "poison"
    poison.mkdir()
    (poison / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    env = {**os.environ, "JOURNEYLENS_TEST_POISON": "1", "PYSPARK_PYTHON": sys.executable,
           "PYTHONPATH": os.pathsep.join([str(poison), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", RUNNER, path, str(source), str(output)], capture_output=True,
                          text=True, timeout=600, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.splitlines()[-1])

    [entry] = quarantined(tmp_path / quarantine_name)
    assert summary["quarantine"] == str(tmp_path / quarantine_name)
    assert set(entry) == {"run_id", "at", "source", "location", "reason", "raw"}
    assert (Path(entry["source"]).name, entry["location"]) == ("calls.jsonl", "line 2")
    assert entry["reason"].startswith(f"{stage}: RuntimeError: poisoned: ")
    assert "<PHONE>" in entry["reason"] and "<EMAIL>" in entry["reason"]  # the error quoted the text
    assert "<PHONE>" in entry["raw"] and "<EMAIL>" in entry["raw"]
    # read, scored, quarantined, skipped, replaced, repaired: read = scored + quarantined
    assert summary["counts"] == [3, 2, 1, 0, 0, 0]
    assert summary["reasons"] == {reason_group(entry["reason"], entry["location"]): 1}

    text, ids = written(output)
    assert ids == kept_ids
    everything = {"output": text, "quarantine": json.dumps(entry, ensure_ascii=False),
                  "printed": done.stdout + done.stderr}
    assert {where: [n for n in (PHONE, EMAIL) if n in value] for where, value in everything.items()} == {
        "output": [], "quarantine": [], "printed": []}
