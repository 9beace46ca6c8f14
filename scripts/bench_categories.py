"""Category engine timings (issue 21), each against a baseline measured in the same run (the machine is noisy):

- **retroactive**: ``categorize_store`` with the built-in packs over a generated store of ``--utterances``
  utterances (default 1M; Chinese and English contact-centre sentences, about one in six carrying a category
  phrase, each made unique by a number so that DuckDB cannot evaluate once per distinct text; every contact
  timed), against a plain scan that reads and lower-cases every text once;
- **in pipeline**: bulk scoring (``score_archive``, one worker) of the first ``--contacts`` transcripts of the
  demo archive with categories off and with the built-in packs, three times each in alternation (best of each); and
  ``categorize_documents`` alone against ``Pipeline.analyze`` on the same batches of 64.

    python scripts/bench_categories.py                       # docs/categories.md numbers
    python scripts/bench_categories.py --utterances 100000   # a smoke run
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp.categories import categorize_documents, categorize_store, load_categories  # noqa: E402
from nlp.config import PipelineConfig  # noqa: E402
from nlp.ingest.local import score_archive  # noqa: E402
from nlp.pipeline import Pipeline  # noqa: E402
from nlp.schema.transcript import Transcript  # noqa: E402
from nlp.store import Store  # noqa: E402

SENTENCES = [  # (speaker, text); the ones with a category phrase are about one in six
    ("agent", "您好，很高兴为您服务，请问有什么可以帮您？"), ("customer", "我的外卖一直没到，已经一个小时了"),
    ("agent", "麻烦您提供一下订单号"), ("customer", "订单号是三零四零"), ("agent", "好的，我帮您查询一下，请稍等"),
    ("customer", "怎么这么慢啊"), ("agent", "骑手已经在路上了，预计二十分钟送达"), ("customer", "好吧，那我再等等"),
    ("agent", "还有其他可以帮您的吗？"), ("customer", "没有了，谢谢"), ("agent", "感谢您的来电，再见"),
    ("customer", "这个商品质量有问题，我想退货"), ("agent", "请您上传一下商品照片"), ("customer", "照片已经发过去了"),
    ("agent", "Thank you for calling, how can I help you today?"), ("customer", "My package has not arrived yet."),
    ("agent", "Could you give me the order number please?"), ("customer", "Sure, it is on the receipt."),
    ("agent", "Let me check that for you, one moment."), ("customer", "The courier says it was delivered."),
    ("agent", "The parcel should arrive within two days."), ("customer", "OK, thanks for your help."),
    ("customer", "我已经第三次打电话了，再不解决我就去12315投诉"), ("customer", "叫你们领导来跟我说"),
    ("customer", "I called again yesterday, this is the third time."), ("customer", "Get me a supervisor now."),
    ("agent", "非常抱歉给您带来不便"), ("agent", "I'm sorry, I understand how frustrating this is."),
    ("agent", "我会帮您处理的"), ("agent", "I'll look into it."), ("customer", "不行我就销户"),
    ("agent", "请提供一下身份证后四位"), ("customer", "Otherwise cancel my account."),
]


def build_store(path: Path, n_utterances: int, per_contact: int = 12) -> None:
    """A store of generated contacts (transcripts and utterances tables only, as scored contacts have)."""
    speakers = [s for s, _ in SENTENCES]
    texts = [t for _, t in SENTENCES]
    with Store(path) as store:
        con = store.con
        con.execute("CREATE TEMP TABLE sentences AS SELECT unnest(?) AS speaker, unnest(?) AS text, "
                    "generate_subscripts(?, 1) - 1 AS k", [speakers, texts, texts])
        n_contacts = n_utterances // per_contact
        con.execute(f"""
            INSERT INTO transcripts (transcript_id, channel, started_at, business_line, language, metadata,
                                     n_turns, n_utterances)
            SELECT 'c' || i, CASE WHEN i % 3 = 0 THEN 'call' ELSE 'chat' END,
                   TIMESTAMP '2026-08-01' + INTERVAL (i % 90) DAY, 'food_delivery', 'zh', '{{"tier": "gold"}}',
                   {per_contact}, {per_contact}
            FROM range({n_contacts}) t(i)""")
        con.execute(f"""
            INSERT INTO utterances (transcript_id, utterance_index, turn_index, sentence_index, speaker, text,
                                    language, start_ms, end_ms, stage, sentiment, sentiment_score)
            SELECT 'c' || i, j, j, 0, s.speaker, s.text || ' #' || (hash(j, i) % 1000000)::VARCHAR, 'zh',
                   j * 6000, j * 6000 + 4000, 'delivery',
                   CASE WHEN s.speaker = 'customer' THEN 'neutral' END,
                   CASE WHEN s.speaker = 'customer' THEN 0.0 END
            FROM range({n_contacts}) t(i), range({per_contact}) u(j)
            JOIN sentences s ON s.k = hash(i, j) % {len(SENTENCES)}""")
        con.execute("CHECKPOINT")


def timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def bench_retroactive(n_utterances: int) -> dict:
    categories = load_categories("contact_centre")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.duckdb"
        build_seconds, _ = timed(lambda: build_store(path, n_utterances))
        with Store(path) as store:
            n = store.con.execute("SELECT count(*) FROM utterances").fetchall()[0][0]
            scan_seconds, _ = timed(lambda: store.con.execute(
                "SELECT count(*), sum(length(lower(text))) FROM utterances").fetchall())
            categorize_seconds, counts = timed(lambda: categorize_store(store.con, categories))
            rows = store.con.execute("SELECT count(*) FROM categories").fetchall()[0][0]
    return {"utterances": n, "build_s": round(build_seconds, 1), "plain_scan_s": round(scan_seconds, 2),
            "categorize_s": round(categorize_seconds, 2), "ratio_to_scan": round(categorize_seconds / scan_seconds, 1),
            "category_rows": rows, "contacts_per_category": counts}


def bench_in_pipeline(n_contacts: int, batch_size: int = 64) -> dict:
    """Bulk scoring (``score_archive``, one worker: reading, pipeline, store) with categories off and on, twice
    each in alternation; and the time ``categorize_documents`` itself takes on the same analysed batches."""
    with tempfile.TemporaryDirectory() as folder:
        archive = Path(folder) / "archive.jsonl"
        with gzip.open(ROOT / "data" / "demo" / "archive.jsonl.gz", "rt", encoding="utf-8") as handle, \
                archive.open("w", encoding="utf-8") as sink:
            lines = [line for _, line in zip(range(n_contacts), handle, strict=False)]
            sink.writelines(lines)
        walls: dict[str, list[float]] = {"off": [], "on": []}
        for attempt in range(3):
            for mode, packs in (("off", []), ("on", ["contact_centre"])):
                db = Path(folder) / f"{mode}{attempt}.duckdb"
                seconds, _ = timed(lambda d=db, p=packs: score_archive([archive], d, PipelineConfig(categories=p),
                                                                     batch_size=batch_size))
                walls[mode].append(seconds)
    transcripts = [Transcript.model_validate(json.loads(line)) for line in lines]
    pipeline = Pipeline(PipelineConfig(categories=[]))
    categories = load_categories("contact_centre")
    warm = pipeline.analyze(transcripts[:2])  # models loaded outside the timings
    first_seconds, _ = timed(lambda: categorize_documents(warm, categories))  # compiles the query
    analyze_seconds = categorize_seconds = 0.0
    for start in range(0, len(transcripts), batch_size):
        seconds, docs = timed(lambda s=start: pipeline.analyze(transcripts[s:s + batch_size]))
        analyze_seconds += seconds
        seconds, _ = timed(lambda d=docs: categorize_documents(d, categories))
        categorize_seconds += seconds
    off, on = min(walls["off"]), min(walls["on"])
    return {"contacts": len(transcripts), "batch_size": batch_size,
            "bulk_score_off_s": [round(x, 2) for x in walls["off"]],
            "bulk_score_on_s": [round(x, 2) for x in walls["on"]],
            "bulk_overhead": round(on / off - 1, 3),
            "first_batch_compile_s": round(first_seconds, 2),
            "analyze_s": round(analyze_seconds, 2), "categorize_documents_s": round(categorize_seconds, 2),
            "categorize_share_of_analyze": round(categorize_seconds / analyze_seconds, 3),
            "categorize_share_of_bulk_scoring": round(categorize_seconds / off, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--utterances", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = {"cpus": os.cpu_count(), "retroactive": bench_retroactive(args.utterances),
              "in_pipeline": bench_in_pipeline(args.contacts)}
    print(json.dumps(result, ensure_ascii=False, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
