"""Where does a bulk run's memory go? Replay one real batch's rows into a fresh DuckDB store, many times.

Scores one batch of a generated archive once, then writes its rows ``--batches`` times under fresh transcript
ids through ``Store.write_tables`` (what the bulk writer does per batch) and prints RSS and write time as the file
grows, with DuckDB's default memory limit and with the writer's (``nlp.ingest.local.WRITER_MEMORY_LIMIT``). With
``--score-only N`` it instead scores a generated archive of N transcripts batch by batch (64 per batch) through the
same ``analyze_batch`` and stores nothing, printing RSS as it goes: does the pipeline itself hold on to memory?

    python scripts/probe_store_memory.py --batches 4000
    python scripts/probe_store_memory.py --score-only 30000
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import write_archive  # noqa: E402

from nlp.config import PipelineConfig  # noqa: E402
from nlp.ingest.local import WRITER_MEMORY_LIMIT, Pending, analyze_batch  # noqa: E402
from nlp.pipeline import Pipeline  # noqa: E402
from nlp.readers import iter_records  # noqa: E402
from nlp.store import Store, content_hash  # noqa: E402


def rss_mb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmRSS"))


def renamed(table: pa.Table, copy: int) -> pa.Table:
    """The table with every transcript id suffixed by ``-copy``, so each replay stores new transcripts."""
    if table.num_rows == 0:
        return table
    ids = pc.binary_join_element_wise(table["transcript_id"], pa.scalar(f"-{copy}"), "")
    return table.set_column(table.column_names.index("transcript_id"), "transcript_id", ids)


def replay(tables: tuple[pa.Table, ...], db: Path, batches: int, memory_limit: str | None, every: int) -> None:
    print(f"memory_limit={memory_limit or 'DuckDB default'}")
    with Store(db, memory_limit=memory_limit) as store:
        started = time.perf_counter()
        for copy in range(1, batches + 1):
            rows = tuple(renamed(t, copy) for t in tables)
            store.write_tables(rows, rows[0]["transcript_id"].to_pylist())
            if copy % every == 0:
                print(f"  {copy * tables[0].num_rows:>9,} transcripts  {time.perf_counter() - started:7.1f} s  "
                      f"RSS {rss_mb():,} MB", flush=True)


def score_only(work: Path, transcripts: int, every: int) -> None:
    """Score ``transcripts`` generated transcripts in batches of 64 without writing anything; RSS as it goes."""
    archive = Path(work) / "score-only.jsonl.gz"
    write_archive(archive, transcripts, seed=11)
    pipeline = Pipeline(PipelineConfig())
    batch: list[Pending] = []
    done = batches = 0
    started = time.perf_counter()
    print(f"score only, nothing stored; RSS {rss_mb():,} MB before the first batch")
    for record in iter_records([archive]):
        if record.transcript is None:
            continue
        batch.append(Pending(record.transcript, record.source, record.location, content_hash(record.transcript)))
        if len(batch) == 64:
            analyze_batch(pipeline, batch, "probe")
            done, batches, batch = done + len(batch), batches + 1, []
            if batches % every == 0:
                print(f"  {done:>9,} transcripts  {time.perf_counter() - started:7.1f} s  RSS {rss_mb():,} MB",
                      flush=True)
    if batch:
        analyze_batch(pipeline, batch, "probe")
        done += len(batch)
    print(f"  {done:>9,} transcripts  {time.perf_counter() - started:7.1f} s  RSS {rss_mb():,} MB (end)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=4000)
    parser.add_argument("--every", type=int, default=500, help="print RSS every this many batches")
    parser.add_argument("--score-only", type=int, metavar="N",
                        help="score N generated transcripts without storing them instead of replaying writes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        if args.score_only:
            score_only(Path(work), args.score_only, args.every)
            print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024:,} MB")
            return
        archive = Path(work) / "archive.jsonl.gz"
        write_archive(archive, 64, seed=11)
        pending = [Pending(r.transcript, r.source, r.location, content_hash(r.transcript))
                   for r in iter_records([archive]) if r.transcript is not None]
        tables = analyze_batch(Pipeline(PipelineConfig()), pending, "probe").tables
        print(f"one batch: {tables[0].num_rows} transcripts, {tables[1].num_rows} utterances; RSS {rss_mb()} MB")
        for limit in (None, WRITER_MEMORY_LIMIT):
            replay(tables, Path(work) / f"probe-{limit}.duckdb", args.batches, limit, args.every)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024:,} MB")


if __name__ == "__main__":
    main()
