"""Files published by others (issue 20): each format read end to end, through ``analyze`` and into the store.

The fixtures under ``fixtures/readers/vendor`` are made from the vendors' published examples; their sources and
licences are listed in the README beside them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from nlp.ingest.local import score_archive
from nlp.ingest.to_jsonl import analyze_files
from nlp.readers import ReaderOptions, iter_records
from nlp.steps.redact import Redactor
from nlp.store import vendor_agreement

VENDOR = Path(__file__).parent / "fixtures" / "readers" / "vendor"


def analyzed(tmp_path: Path, *paths: Path, **options) -> list[dict]:
    output = tmp_path / "out.jsonl"
    analyze_files(list(paths), output, reader_options=ReaderOptions(**options))
    return [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]


def stored(tmp_path: Path, *paths: Path, batch_size: int = 64, **options) -> tuple[object, list[dict]]:
    db = tmp_path / "cx.duckdb"
    summary = score_archive(list(paths), db, reader_options=ReaderOptions(**options), batch_size=batch_size)
    con = duckdb.connect(str(db), read_only=True)
    try:
        cursor = con.execute("SELECT * FROM utterances ORDER BY transcript_id, utterance_index")
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()
    return summary.counts, rows


def test_per_call_folders_reusing_a_file_name_keep_one_transcript_per_call(tmp_path):
    folder = VENDOR / "percall"
    records = list(iter_records([folder]))
    assert [r.reason for r in records] == [None, None]
    assert [r.transcript.id for r in records] == ["c-20251228-7f3a", "2025-12-28/call-9b21/transcription"]
    counts, rows = stored(tmp_path, folder, batch_size=1)
    assert (counts.read, counts.scored, counts.replaced, counts.quarantined) == (2, 2, 0, 0)
    assert len({row["transcript_id"] for row in rows}) == 2
    lines = analyzed(tmp_path, folder)
    assert {line["transcript_id"] for line in lines} == {"c-20251228-7f3a", "2025-12-28/call-9b21/transcription"}
    for output in (lines, rows):
        turns = by_turn(output)["c-20251228-7f3a"]
        assert [(t["speaker"], t["start_ms"], t["end_ms"]) for t in turns] == [
            ("agent", 0, 3200), ("customer", 3500, 6100), ("agent", 6400, 8800)]


def test_the_same_file_listed_by_bulk_gets_the_same_relative_id(tmp_path):
    from nlp.readers import list_inputs

    folder = VENDOR / "percall"
    files = list_inputs([folder])
    assert [r.transcript.id for r in iter_records(files, roots=[folder])][1] == "2025-12-28/call-9b21/transcription"
    assert [r.transcript.id for r in iter_records(files)][1] == "transcription"  # no folder given: the stem


# file → (id, speaker of each turn, start_ms of each turn, the vendor's sentiment of each turn)
EXPECTED = {
    "amazon/contact_lens_chat.json": (
        "a1b2c3d4-5678-90ab-cdef-EXAMPLE22222", ["customer", "agent", "customer"], [5000, 30000, 50000],
        ["negative", "positive", "positive"]),
    "amazon/contact_lens_chat_redacted.json": (
        "a1b2c3d4-5678-90ab-cdef-EXAMPLE55555", ["customer", "agent", "customer"], [5000, 30000, 50000],
        ["negative", "positive", "positive"]),
    "amazon/connect_chat_transcript.json": (
        "b2c3d4e5-6789-01ab-cdef-EXAMPLE66666", ["system", "customer", "agent"], [2303, 21791, 51041],
        [None, None, None]),
    "amazon/transcribe_call_analytics.json": (
        "my-first-call-analytics-job", ["agent", "customer", "customer"], [220, 4380, 9120],
        ["neutral", "negative", "positive"]),
    "google/ccai_conversation_sentiment.json": (
        "1234567890123456789", ["agent", "customer", "agent"], [0, 5500, 19000], ["positive", "negative", "neutral"]),
    "google/ccai_upload_chat.json": (
        "chat-2023-0415-0042", ["customer", "agent", "customer", "agent"], [0, 5000, 30000, 60000], [None] * 4),
}


def by_turn(rows: list[dict]) -> dict[str, list[dict]]:
    """The first utterance of each turn, per transcript id."""
    turns: dict[str, dict[int, dict]] = {}
    for row in rows:
        turns.setdefault(row["transcript_id"], {}).setdefault(row["turn_index"], row)
    return {tid: [first[index] for index in sorted(first)] for tid, first in turns.items()}


@pytest.fixture(scope="module")
def vendor_outputs(tmp_path_factory) -> tuple[dict, dict, object]:
    tmp = tmp_path_factory.mktemp("vendor")
    paths = [VENDOR / "amazon", VENDOR / "google"]
    lines = analyzed(tmp, *paths)
    counts, rows = stored(tmp, *paths)
    return by_turn(lines), by_turn(rows), counts


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_vendor_files_keep_ids_speakers_times_and_the_vendors_sentiment(name, vendor_outputs):
    expected_id, speakers, starts, theirs = EXPECTED[name]
    record = list(iter_records([VENDOR / name]))[0]
    assert record.reason is None
    transcript = record.transcript
    assert transcript.id == expected_id
    assert [t.speaker for t in transcript.turns] == speakers
    stored_id = Redactor().pseudonymize(expected_id)
    analysed, rows, counts = vendor_outputs
    assert (counts.read, counts.scored, counts.quarantined) == (len(EXPECTED), len(EXPECTED), 0)
    for output in (analysed, rows):
        turns = output[stored_id]
        assert [t["speaker"] for t in turns] == speakers
        assert [t["start_ms"] for t in turns] == starts
        assert [t["vendor_sentiment"] for t in turns] == theirs


def test_contact_lens_chat_events_are_kept_as_events_and_per_message_roles_win():
    redacted = next(iter_records([VENDOR / "amazon/contact_lens_chat_redacted.json"])).transcript
    assert redacted.metadata["redacted"] is True
    assert [event["type"].rsplit(".", 1)[-1] for event in redacted.metadata["events"]] == ["joined", "joined", "ended"]
    assert redacted.metadata["vendor_categories"] == ["Refund"]
    chat = next(iter_records([VENDOR / "amazon/connect_chat_transcript.json"])).transcript
    assert (chat.channel, chat.metadata["source_format"]) == ("chat", "connect_chat")
    assert chat.turns[2].ts == datetime(2019, 8, 26, 22, 18, 10, 250000, tzinfo=UTC)
    assert [t.metadata["display_name"] for t in chat.turns] == ["SYSTEM_MESSAGE", "Customer", "John"]


def test_connect_chat_entries_are_events_by_their_type_or_by_carrying_no_content(tmp_path):
    """An EVENT or ATTACHMENT entry is an event even when it carries Content (a system text, a file name), whatever
    the case of its Type; an entry with a ContentType and no Content is one too; a MESSAGE is a turn. Events keep
    their content type (else their Type), the role (from the entry or the participant list) and their time."""
    data = json.loads((VENDOR / "amazon/connect_chat_transcript.json").read_text())
    customer = data["Transcript"][2]["ParticipantId"]
    data["Participants"][0]["ParticipantRole"] = "CUSTOMER"
    data["Transcript"][0]["Content"] = "Customer has joined the chat"  # an event with content
    data["Transcript"].insert(3, {"AbsoluteTime": "2019-08-26T22:17:50.000Z", "Type": "attachment",
                                  "Content": "receipt.png", "Id": "att-1", "ParticipantId": customer})
    data["Transcript"].insert(4, {"AbsoluteTime": "2019-08-26T22:17:55.000Z", "Id": "typing-1",
                                  "ContentType": "application/vnd.amazonaws.connect.event.typing",
                                  "ParticipantId": customer})
    path = tmp_path / "chat.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    chat = next(iter_records([path])).transcript
    assert [t.text for t in chat.turns] == ["Hello, thanks for contacting us. How can I help?",
                                            "My package never arrived.",
                                            "I'm sorry to hear that. Let me check the tracking for you."]
    events = chat.metadata["events"]
    assert [e["type"].rsplit(".", 1)[-1] for e in events] == ["joined", "attachment", "typing", "joined", "left"]
    assert [e.get("role") for e in events] == ["CUSTOMER", "CUSTOMER", "CUSTOMER", "AGENT", "CUSTOMER"]
    assert events[1]["ts"] == "2019-08-26T22:17:50.000Z"


def test_an_entry_whose_participant_has_no_role_anywhere_is_refused_naming_it(tmp_path):
    data = json.loads((VENDOR / "amazon/contact_lens_chat_redacted.json").read_text())
    del data["Transcript"][1]["ParticipantRole"]
    path = tmp_path / "chat.json"
    path.write_text(json.dumps(data))
    record = next(iter_records([path]))
    assert "f5b4d9a4-8a3c-4c4d-9c2e-EXAMPLE33333" in record.reason


def test_ccai_conversation_info_gives_id_categories_and_metadata():
    transcript = next(iter_records([VENDOR / "google/ccai_upload_chat.json"])).transcript
    assert transcript.metadata["vendor_categories"] == ["Billing"]
    assert transcript.metadata["queue"] == "billing-en"
    conversation = next(iter_records([VENDOR / "google/ccai_conversation_sentiment.json"])).transcript
    assert [t.metadata["vendor_sentiment_score"] for t in conversation.turns] == [0.4, -0.7, 0.0]


def test_summary_reports_agreement_with_the_vendors_sentiment(tmp_path):
    from typer.testing import CliRunner

    from nlp.cli import app

    db = tmp_path / "cx.duckdb"
    score_archive([VENDOR / "amazon"], db)
    con = duckdb.connect(str(db), read_only=True)
    try:
        agreement = vendor_agreement(con)
        both = con.execute("SELECT count(*) FROM utterances WHERE vendor_sentiment IS NOT NULL "
                           "AND sentiment IS NOT NULL").fetchall()[0][0]
        same = con.execute("SELECT count(*) FROM utterances WHERE vendor_sentiment = sentiment").fetchall()[0][0]
    finally:
        con.close()
    assert sum(row["utterances"] for row in agreement) == both > 0
    assert sum(row["agree"] for row in agreement) == same
    result = CliRunner().invoke(app, ["summary", "--db", str(db)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "theirs (source platform) vs ours" in result.output
    assert f"agreement: {same:,} of {both:,}" in result.output


def test_score_and_analyze_read_one_csv_alike_with_the_same_reader_options(tmp_path):
    """Issue 20 item 4: --column, --speaker-map and --encoding reach both commands, from one place."""
    from typer.testing import CliRunner

    from nlp.cli import app

    rows = [("会话编号", "发言方", "内容"), ("mt-001", "商家客服", "您好，请问有什么可以帮您？"),
            ("mt-001", "顾客", "我的外卖洒了，汤都漏了。"), ("mt-002", "商家客服", "您好，很高兴为您服务。"),
            ("mt-002", "顾客", "骑手态度很差，我要投诉。")]
    path = tmp_path / "meituan.csv"
    path.write_bytes("\n".join(",".join(row) for row in rows).encode("gb18030") + b"\n")
    options = ["--column", "id=会话编号", "--column", "speaker=发言方", "--column", "text=内容",
               "--speaker-map", "商家客服=agent", "--encoding", "gb18030"]
    runner = CliRunner()
    db, output = tmp_path / "cx.duckdb", tmp_path / "out.jsonl"
    scored = runner.invoke(app, ["score", str(path), "--db", str(db), "--strict", *options], env={"COLUMNS": "200"})
    assert scored.exit_code == 0, scored.output
    analysed = runner.invoke(app, ["analyze", str(path), "--output", str(output), "--strict", *options],
                             env={"COLUMNS": "200"})
    assert analysed.exit_code == 0, analysed.output
    lines = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    con = duckdb.connect(str(db), read_only=True)
    try:
        stored_rows = con.execute("SELECT transcript_id, turn_index, speaker, text, sentiment FROM utterances "
                                  "ORDER BY transcript_id, utterance_index").fetchall()
    finally:
        con.close()
    assert [(r["transcript_id"], r["turn_index"], r["speaker"], r["text"], r["sentiment"]) for r in lines] == [
        tuple(row) for row in stored_rows]
    assert {r["transcript_id"] for r in lines} == {"mt-001", "mt-002"}
    assert [r["speaker"] for r in lines if r["turn_index"] == 0] == ["agent", "agent"]


def test_analyze_exits_non_zero_when_nothing_could_be_analysed_and_groups_quarantine_by_reason(tmp_path):
    from typer.testing import CliRunner

    from nlp.cli import app

    inputs = tmp_path / "in"
    inputs.mkdir()
    for number in range(3):
        (inputs / f"bad_{number}.jsonl").write_text('{"id": "x", "turns": []}\n{"id": "y"\n', encoding="utf-8")
    output = tmp_path / "out" / "utterances.jsonl"
    result = CliRunner().invoke(app, ["analyze", str(inputs), "--output", str(output)], env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    assert "nothing could be analysed" in result.output
    # grouped by what went wrong, not by where ("line 1", "line 2"): two reasons, three records each
    assert "3 × turns: List should have at least 1 item" in result.output
    assert "3 × invalid JSON: Expecting ',' delimiter (column N)" in result.output
    good = inputs / "good.jsonl"
    good.write_text('{"id": "ok", "turns": [{"speaker": "客服", "text": "您好"}]}\n', encoding="utf-8")
    lenient = CliRunner().invoke(app, ["analyze", str(inputs), "--output", str(output)], env={"COLUMNS": "200"})
    strict = CliRunner().invoke(app, ["analyze", str(inputs), "--output", str(output), "--strict"],
                                env={"COLUMNS": "200"})
    assert (lenient.exit_code, strict.exit_code) == (0, 1)


def test_chinese_text_export_maps_bot_and_system_lines_and_never_guesses_unknown_labels(tmp_path):
    from typer.testing import CliRunner

    from nlp.cli import app

    path = VENDOR / "meituan" / "session_0042.txt"
    transcript = next(iter_records([path])).transcript
    assert [(t.speaker, t.speaker_label) for t in transcript.turns] == [
        ("bot", "FAQ"), ("customer", "用户"), ("system", "RULE"), ("bot", "DM"), ("customer", "用户"),
        ("agent", "客服"), ("customer", "用户"), ("agent", "客服"), ("customer", "用户")]
    assert transcript.turns[6].text == "************"  # the masked line is the customer's, not the agent's
    assert "转接队列已满" not in "".join(t.text for t in transcript.turns)
    assert transcript.metadata["unknown_speaker_lines"] == {"XYZ": 1}
    assert "XYZ (1)" in transcript.metadata["warnings"][0]
    lines = analyzed(tmp_path, path)
    counts, rows = stored(tmp_path, path)
    for output in (lines, rows):
        speakers = {row["turn_index"]: row["speaker"] for row in output}
        assert [speakers[i] for i in (0, 2, 3)] == ["bot", "system", "bot"]
        assert all(row["sentiment"] is None for row in output if row["speaker"] in ("bot", "system"))
        assert {row["transcript_id"] for row in output} == {"mt-session-0042"}
    result = CliRunner().invoke(app, ["analyze", str(path), "--output", str(tmp_path / "cli.jsonl")],
                                env={"COLUMNS": "200"})
    assert "1 line(s) with an unknown speaker label left out: 1 × XYZ" in result.output
    mapped = next(iter_records([path], ReaderOptions(speaker_map={"XYZ": "system"}))).transcript
    assert [t.speaker for t in mapped.turns].count("system") == 2 and "unknown_speaker_lines" not in mapped.metadata


@pytest.mark.parametrize(("name", "texts"), [("support_call.vtt", "Hi, I ordered"), ("support_call_zh.srt", "你好")])
def test_whisper_diarised_subtitles_read_bracketed_labels_and_guess_roles_only_when_asked(tmp_path, name, texts):
    path = VENDOR / "whisper" / name
    [refused] = list(iter_records([path]))
    assert refused.reason.startswith("speakers SPEAKER_00, SPEAKER_01 name no role: give their roles with "
                                     "--speaker-map SPEAKER_00=agent")
    roles = {"SPEAKER_00": "agent", "[SPEAKER_01]": "customer"}
    mapped = next(iter_records([path], ReaderOptions(speaker_map=roles)))
    guessed = next(iter_records([path], ReaderOptions(guess_speakers=True)))
    for transcript in (mapped.transcript, guessed.transcript):
        assert [(t.speaker, t.speaker_label) for t in transcript.turns] == [
            ("customer", "SPEAKER_01"), ("agent", "SPEAKER_00"), ("customer", "SPEAKER_01"), ("agent", "SPEAKER_00")]
        assert [(t.start_ms, t.end_ms) for t in transcript.turns] == [
            (0, 2480), (2480, 6020), (6020, 9300), (9300, 12750)]
        assert transcript.turns[0].text.startswith(texts)
    # the customer speaks first here: the guess comes from what they say, not from who opens
    guess = guessed.transcript.metadata["speaker_guess"]
    assert "SPEAKER_00 taken as the agent: it greets or offers help most" in guess
    assert "speaker_guess" not in mapped.transcript.metadata
    lines = analyzed(tmp_path, path, guess_speakers=True)
    counts, rows = stored(tmp_path, path, guess_speakers=True)
    for output in (lines, rows):
        turns = by_turn(output)[path.stem]
        assert [(t["speaker"], t["speaker_label"], t["start_ms"]) for t in turns] == [
            ("customer", "SPEAKER_01", 0), ("agent", "SPEAKER_00", 2480), ("customer", "SPEAKER_01", 6020),
            ("agent", "SPEAKER_00", 9300)]


def wide_table():
    from rich.table import Table

    table = Table(title="sentiment · theirs vs ours")
    for column in ("transcript", "speaker", "theirs", "ours", "stage", "issue type", "service step", "emotion"):
        table.add_column(column)
    table.add_row("a1b2c3d4-5678-90ab-cdef-EXAMPLE22222", "customer", "negative", "negative", "delivery_delay",
                  "late_order", "apology_and_compensation", "anger")
    return table


@pytest.mark.parametrize(("columns", "width", "shape"), [(None, 80, "tsv"), ("30", 30, "records"),
                                                          ("400", 400, "table")])
def test_tables_never_cut_values(monkeypatch, columns, width, shape):
    """Issue 20 item 7: into a pipe without a width, TSV; too narrow for the table, one 'column: value' line per
    cell; else the table, folding long values."""
    import io

    from rich.console import Console

    import nlp.cli.common

    buffer = io.StringIO()
    monkeypatch.setattr(nlp.cli.common, "out", Console(file=buffer, width=width))
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    nlp.cli.common._print_table(wide_table())
    printed = buffer.getvalue()
    assert "…" not in printed
    if shape == "tsv":
        assert printed.splitlines()[1:] == [
            "transcript\tspeaker\ttheirs\tours\tstage\tissue type\tservice step\temotion",
            "a1b2c3d4-5678-90ab-cdef-EXAMPLE22222\tcustomer\tnegative\tnegative\tdelivery_delay\tlate_order\t"
            "apology_and_compensation\tanger"]
    elif shape == "records":
        assert "transcript: a1b2c3d4-5678-90ab-cdef-EXAMPLE22222" in printed.splitlines()
        assert "service step: apology_and_compensation" in printed.splitlines()
    else:
        assert "┃" in printed and "a1b2c3d4-5678-90ab-cdef-EXAMPLE22222" in printed


def test_the_spark_reader_gives_per_call_files_the_same_ids_as_score(tmp_path):
    import pyarrow as pa

    from nlp.ingest.spark import _reader
    from nlp.readers import list_inputs

    folder = VENDOR / "percall"
    files = [str(f) for f in list_inputs([folder])]
    batch = pa.record_batch({"file_index": list(range(len(files))), "path": files})
    read = _reader(ReaderOptions(), [str(folder)])
    ids = [tid for out in read(iter([batch])) for tid in out.column("transcript_id").to_pylist()]
    assert ids == ["c-20251228-7f3a", "2025-12-28/call-9b21/transcription"]


def test_an_id_collision_is_never_silent(tmp_path):
    from typer.testing import CliRunner

    from nlp.cli import app

    source = (VENDOR / "percall/2025-12-28/call-7f3a/transcription.json").read_text(encoding="utf-8")
    for day in ("2025-12-28", "2025-12-29"):
        folder = tmp_path / "calls" / day / "call-7f3a"
        folder.mkdir(parents=True)
        (folder / "transcription.json").write_text(source.replace("超时一个小时", f"超时({day})"), encoding="utf-8")
    counts, rows = stored(tmp_path, tmp_path / "calls", batch_size=1)
    assert (counts.read, counts.scored, counts.replaced) == (2, 1, 1)  # the later export wins, and it is counted
    result = CliRunner().invoke(app, ["analyze", str(tmp_path / "calls"), "--output", str(tmp_path / "out.jsonl")],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "1 transcript(s) share an id with an earlier one (both written): c-20251228-7f3a" in result.output


def test_train_stages_reads_unlabelled_transcripts_with_the_same_reader_options(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    import nlp.training.stages
    from nlp.cli import app

    seen = {}

    def fake_train_stages(taxonomy, labels, **kwargs):
        seen.update(kwargs)
        raise ValueError("stopped by the test")

    monkeypatch.setattr(nlp.training.stages, "train_stages", fake_train_stages)
    result = CliRunner().invoke(app, ["train-stages", "--taxonomy", "food_delivery", "--unlabelled", str(tmp_path),
                                      "--column", "text=内容", "--speaker-map", "商家客服=agent",
                                      "--encoding", "gb18030", "--guess-speakers"], env={"COLUMNS": "200"})
    assert "stopped by the test" in result.output
    assert seen["reader_options"] == ReaderOptions(columns={"text": "内容"}, speaker_map={"商家客服": "agent"},
                                                   encoding="gb18030", guess_speakers=True)


def test_vendor_issues_and_categories_appear_beside_ours(tmp_path):
    path = VENDOR / "amazon" / "transcribe_call_analytics.json"
    lines = analyzed(tmp_path, path)
    counts, rows = stored(tmp_path, path)
    first = by_turn(lines)["my-first-call-analytics-job"]
    assert [t["vendor_issues"] for t in first] == [None, ["having trouble submitting my claim"], None]
    assert {tuple(line["vendor_categories"]) for line in lines} == {("positive-resolution",)}
    stored_turns = by_turn(rows)["my-first-call-analytics-job"]
    assert [json.loads(t["vendor_issues"]) if t["vendor_issues"] else None for t in stored_turns] == [
        None, ["having trouble submitting my claim"], None]


def test_jsonl_records_without_an_id_take_their_own_conversation_id(tmp_path):
    path = tmp_path / "calls.jsonl"
    path.write_text('{"call_id": "c-9", "turns": [{"speaker": "agent", "text": "您好"}]}\n'
                    '{"turns": [{"speaker": "agent", "text": "您好"}]}\n', encoding="utf-8")
    first, second = iter_records([path])
    assert first.transcript.id == "c-9"
    assert second.reason == "line 2: id: Field required"  # a line of many has no path of its own to fall back to
