"""Transcript readers: every format, every encoding, and every way a file can be broken."""

from __future__ import annotations

import errno
import gzip
import json
import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from nlp.readers import ReaderOptions, Record, iter_records, list_inputs, total_bytes
from nlp.readers.source import sniff_encoding
from nlp.readers.tabular import CSV_FIELD_LIMIT
from nlp.schema.channels import CHANNELS
from nlp.schema.timestamps import EXPECTED, read_time
from nlp.schema.transcript import Transcript

FIXTURES = Path(__file__).parent / "fixtures" / "readers"
GOOD = FIXTURES / "good"
BROKEN = FIXTURES / "broken"
CONTACT_LENS = GOOD / "0a6e4b2f-7c3d-4e8a-9b1f-2d5c6e7f8a90_analysis.json"
CST = timezone(timedelta(hours=8))


def read(*paths: str | Path, **options) -> list[Record]:
    return list(iter_records(paths, ReaderOptions(**options)))


def read_one(path: str | Path, **options) -> Transcript:
    """The single transcript a one-transcript file holds."""
    [record] = read(path, **options)
    assert record.reason is None and record.transcript is not None
    return record.transcript


def speakers(transcript: Transcript) -> list[tuple[str, str | None]]:
    return [(turn.speaker, turn.speaker_label) for turn in transcript.turns]


def texts(transcript: Transcript) -> list[str]:
    return [turn.text for turn in transcript.turns]


def test_jsonl_reads_one_transcript_per_line_and_resolves_speaker_synonyms():
    records = read(GOOD / "canonical.jsonl")
    assert [(r.location, r.reason, r.raw) for r in records] == [
        ("line 1", None, None),
        ("line 2", None, None),
    ]
    first = records[0].transcript
    assert (
        first.id,
        first.channel,
        first.customer_id,
        first.order_id,
        first.business_line,
        first.language,
    ) == ("chat-0001", "chat", "u-1024", "WM20261001001", "外卖", "zh")
    assert first.started_at == datetime(2026, 10, 1, 9, 15, tzinfo=CST)
    assert first.metadata == {"queue": "配送"}
    assert speakers(first) == [("customer", "客户"), ("agent", None)]
    assert first.turns[1].ts == datetime(2026, 10, 1, 9, 15, 40, tzinfo=CST)


def test_traditional_chinese_text_passes_through_unchanged():
    second = read(GOOD / "canonical.jsonl")[1].transcript
    assert texts(second) == ["請問我的訂單什麼時候到？", "您的訂單預計今晚八點前送達。"]


def test_gzip_jsonl_streams_and_takes_its_format_from_the_inner_suffix():
    path = GOOD / "calls.jsonl.gz"
    records = read(path)
    assert [(r.source, r.location, r.transcript.id) for r in records] == [
        (str(path), "line 1", "call-0101"),
        (str(path), "line 2", "call-0102"),
    ]
    assert speakers(records[0].transcript) == [("ivr", None), ("customer", None)]
    assert (records[0].transcript.turns[1].start_ms, records[0].transcript.turns[1].end_ms) == (5200, 6100)
    assert records[-1].position == path.stat().st_size


def test_jsonl_is_read_lazily_line_by_line(tmp_path):
    path = tmp_path / "big.jsonl"
    line = json.dumps({"id": "x", "turns": [{"speaker": "agent", "text": "您好" * 20}]}, ensure_ascii=False)
    path.write_text((line + "\n") * 3000, encoding="utf-8")
    first = next(iter_records([path]))
    assert first.position == len((line + "\n").encode("utf-8"))


def test_utf8_bom_csv_groups_contiguous_rows_and_keeps_other_columns_as_metadata():
    records = read(GOOD / "turns_bom.csv")
    assert [(r.location, r.reason) for r in records] == [("rows 2-3", None), ("row 4", None)]
    call, chat = records[0].transcript, records[1].transcript
    assert (call.id, call.channel, call.customer_id, call.metadata) == (
        "c-1001",
        "call",
        "u-77",
        {"queue": "酒店"},
    )
    assert speakers(call) == [("customer", "客户"), ("agent", "客服01")]
    assert [(t.start_ms, t.end_ms) for t in call.turns] == [(0, 3500), (4000, 7800)]
    assert (chat.id, chat.channel, texts(chat)) == ("c-1002", "chat", ["优惠券不能用,提示已过期"])


def test_csv_column_option_maps_a_non_standard_column():
    transcript = read_one(BROKEN / "missing_text_column.csv", columns={"text": "message_body"})
    assert (transcript.id, texts(transcript)) == ("m-1", ["我要退货", "好的，已为您登记"])


def test_csv_row_defects_reject_the_whole_transcript_naming_the_row(tmp_path):
    (tmp_path / "a_cells.csv").write_text('id,speaker,text\nx1,agent,"您好,请问"\nx1,customer,我的,订单\n')
    (tmp_path / "b_empty.csv").write_text("id,speaker,text\ny1,agent,您好\ny1,customer,\n")
    (tmp_path / "c_tabs.tsv").write_text("id\tspeaker\ttext\nt1\tagent\thi, there\n")
    records = read(tmp_path)
    assert [r.reason for r in records[:2]] == [
        "rows 2-3: row 3: it has 4 cells but the header has 3; quote text that contains ','",
        "rows 2-3: row 3 has no text (column 'text'); every row needs an id, speaker and text",
    ]
    assert records[0].raw == 'x1,agent,"您好,请问"\nx1,customer,我的,订单\n'
    assert texts(records[2].transcript) == ["hi, there"]


def test_gb18030_csv_is_sniffed_and_a_forced_encoding_is_used(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("id,speaker,text\nG1,客户,我的订单没到\n".encode("gbk"))
    assert texts(read_one(path)) == ["我的订单没到"]
    assert texts(read_one(path, encoding="gbk")) == ["我的订单没到"]


def test_parquet_is_read_in_batches_and_grouped_by_id():
    records = read(GOOD / "turns.parquet")
    assert [(r.location, r.reason) for r in records] == [("rows 1-3", None), ("row 4", None)]
    delivery, hotel = records[0].transcript, records[1].transcript
    assert (delivery.id, delivery.business_line, delivery.metadata) == (
        "p-1",
        "外卖",
        {"agent_group": "配送组"},
    )
    assert [t.ts for t in delivery.turns] == [
        datetime(2026, 10, 4, 18, 2),
        datetime(2026, 10, 4, 18, 2, 30),
        datetime(2026, 10, 4, 18, 3),
    ]
    assert (hotel.id, hotel.metadata, speakers(hotel)) == ("p-2", {}, [("bot", "机器人")])


def test_gbk_plain_text_with_header_lines_timestamps_and_continuation_lines():
    transcript = read_one(GOOD / "gbk_chat.txt")
    assert (transcript.id, transcript.channel, transcript.business_line, transcript.order_id) == (
        "chat-20261003-017",
        "chat",
        "外卖",
        "WM88812345",
    )
    assert transcript.metadata == {"store": "黄焖鸡米饭(望京店)"}
    assert speakers(transcript) == [
        ("customer", "客户"),
        ("agent", "客服01"),
        ("customer", "客户"),
        ("agent", "客服01"),
    ]
    assert transcript.turns[2].text == "照片已经发了\n你们看一下"
    assert [t.ts for t in transcript.turns] == [
        datetime(2026, 10, 3, 12, 1, 5),
        datetime(2026, 10, 3, 12, 1, 40),
        datetime(2026, 10, 3, 12, 2, 30),
        datetime(2026, 10, 3, 12, 3, 10),
    ]


def test_plain_text_clock_timestamps_english_prefixes_and_preamble():
    transcript = read_one(GOOD / "call_notes.txt")
    assert transcript.id == "call_notes"
    assert transcript.metadata == {"preamble": "通话记录导出 2026-10-05"}
    assert speakers(transcript) == [("agent", "坐席"), ("customer", None), ("agent", "坐席")]
    assert [t.start_ms for t in transcript.turns] == [2000, 5000, 15500]
    assert transcript.turns[1].text == "安装师傅说明天把遥控器送过来，\n已经过了三天了还没送到。"


def test_plain_text_without_a_recognisable_turn_is_rejected(tmp_path):
    (tmp_path / "memo.txt").write_text("客户来电咨询退款\n已处理\n")
    [record] = read(tmp_path / "memo.txt")
    assert record.location == "file"
    assert record.reason.startswith("no turns found: expected lines like '客服：您好'")
    assert record.raw == "客户来电咨询退款\n已处理\n"


def test_webvtt_voice_tags_with_anonymous_labels_are_guessed_from_what_they_say_when_asked():
    [refused] = read(GOOD / "call_0815.vtt")
    assert refused.reason.startswith("speakers Speaker 1, Speaker 2 name no role: give their roles with --speaker-map")
    transcript = read_one(GOOD / "call_0815.vtt", guess_speakers=True)
    assert transcript.id == "call_0815"
    assert transcript.metadata["speaker_roles_guessed"] is True
    assert "Speaker 1 taken as the agent: it greets or offers help most (您好" in transcript.metadata["speaker_guess"]
    assert speakers(transcript) == [
        ("agent", "Speaker 1"),
        ("customer", "Speaker 2"),
        ("customer", "Speaker 2"),
        ("agent", "Speaker 1"),
    ]
    assert [(t.start_ms, t.end_ms) for t in transcript.turns] == [
        (500, 3200),
        (3800, 8000),
        (8400, 10100),
        (10600, 13000),
    ]
    assert texts(transcript)[1:3] == [
        "我昨天订的房间到现在还没有确认，\n今晚就要入住了。",
        "订单号是HT20261001888。",
    ]


def test_speaker_map_sets_roles_instead_of_the_guess():
    transcript = read_one(GOOD / "call_0815.vtt", speaker_map={"speaker 1": "customer", "Speaker 2": "agent"})
    assert transcript.metadata == {}
    assert [turn.speaker for turn in transcript.turns] == ["customer", "agent", "agent", "customer"]


def test_srt_with_chinese_speaker_prefixes():
    transcript = read_one(GOOD / "refund.srt")
    assert transcript.id == "refund"
    assert speakers(transcript) == [("agent", "客服"), ("customer", "客户"), ("agent", "客服")]
    assert texts(transcript)[1] == "我想申请退款，商家一直没有出餐。"
    assert [(t.start_ms, t.end_ms) for t in transcript.turns] == [(1000, 3500), (4000, 8200), (8600, 12000)]


def test_subtitles_whose_first_cue_has_no_speaker_are_rejected(tmp_path):
    (tmp_path / "asr.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n你好\n")
    [record] = read(tmp_path / "asr.vtt")
    assert record.reason == (
        "cue 1 (00:00:01.000) has no speaker: start a speaker's cues with a <v Name> voice tag, "
        "with 'Name: ' or with '[SPEAKER_00]: '"
    )


def test_contact_lens_analysis_maps_participants_offsets_and_sentiment():
    transcript = read_one(CONTACT_LENS)
    assert (transcript.id, transcript.channel, transcript.language) == (
        "0a6e4b2f-7c3d-4e8a-9b1f-2d5c6e7f8a90",
        "call",
        "zh",
    )
    assert speakers(transcript) == [("agent", None), ("customer", None), ("agent", None), ("customer", None)]
    assert [(t.start_ms, t.end_ms) for t in transcript.turns] == [
        (0, 3900),
        (4200, 9800),
        (10300, 14900),
        (15600, 18700),
    ]
    assert texts(transcript)[1] == "我的外卖下单一个多小时了还没送到，骑手电话也打不通。"
    assert [t.metadata["sentiment"] for t in transcript.turns] == [
        "NEUTRAL",
        "NEGATIVE",
        "NEUTRAL",
        "POSITIVE",
    ]
    assert transcript.turns[1].metadata["issues_detected"] == [
        {"CharacterOffsets": {"BeginOffsetChar": 0, "EndOffsetChar": 16}}
    ]
    metadata = transcript.metadata
    assert metadata["overall_sentiment"] == {"AGENT": 2.5, "CUSTOMER": -1.8}
    assert metadata["talk_time_ms"] == {"AGENT": 8500, "CUSTOMER": 8700}
    assert [period["Score"] for period in metadata["sentiment_by_quarter"]["CUSTOMER"]] == [
        0.0,
        -5.0,
        -2.5,
        2.5,
    ]
    assert {
        key: metadata[key] for key in ("non_talk_time_ms", "interruptions", "duration_ms", "categories")
    } == {"non_talk_time_ms": 2100, "interruptions": 1, "duration_ms": 18700, "categories": ["催单"]}
    assert (metadata["source_format"], metadata["language_code"]) == ("contact_lens", "zh-CN")


def test_contact_lens_chat_without_contact_id_falls_back_to_the_file_stem(tmp_path):
    path = tmp_path / "chat_42.json"
    path.write_text(
        json.dumps(
            {
                "Channel": "CHAT",
                "LanguageCode": "en-US",
                "Participants": [{"ParticipantId": "p-9", "ParticipantRole": "CUSTOMER"}],
                "Transcript": [
                    {
                        "ParticipantId": "p-9",
                        "Content": "Where is my refund?",
                        "BeginOffsetMillis": 0,
                        "EndOffsetMillis": 1200,
                    }
                ],
            }
        )
    )
    transcript = read_one(path)
    assert (transcript.id, transcript.channel, transcript.language) == ("chat_42", "chat", "en")
    assert transcript.turns[0].metadata == {"participant_id": "p-9"}


def test_ccai_upload_entries_give_relative_offsets_and_absolute_times():
    transcript = read_one(GOOD / "ccai_hotel_chat.json")
    start = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
    assert (transcript.id, transcript.started_at) == ("ccai_hotel_chat", start)
    assert speakers(transcript) == [("customer", None), ("agent", None), ("customer", None), ("agent", None)]
    assert [t.start_ms for t in transcript.turns] == [0, 4500, 9200, 15000]
    assert transcript.turns[1].ts == start + timedelta(milliseconds=4500)
    assert [t.metadata for t in transcript.turns[:2]] == [{"user_id": 1}, {"user_id": 2}]


def test_ccai_conversation_resource_maps_roles_medium_and_message_times():
    transcript = read_one(GOOD / "ccai_conversation.json")
    assert (transcript.id, transcript.channel, transcript.language) == ("7781234567890123456", "call", "zh")
    assert transcript.started_at == datetime(2026, 10, 2, 6, 30, tzinfo=UTC)
    assert speakers(transcript) == [
        ("bot", "AUTOMATED_AGENT"),
        ("customer", "END_USER"),
        ("bot", "AUTOMATED_AGENT"),
        ("agent", "HUMAN_AGENT"),
    ]
    assert [t.start_ms for t in transcript.turns] == [0, 5500, 10000, 39000]
    assert transcript.turns[1].metadata == {
        "sentiment": {"magnitude": 0.6, "score": -0.5},
        "confidence": 0.88,
        "vendor_sentiment": "negative",
        "vendor_sentiment_score": -0.5,
    }
    assert (transcript.metadata["agent_id"], transcript.metadata["labels"]) == (
        "agent-0042",
        {"queue": "hotel"},
    )


def test_json_document_shapes(tmp_path):
    (tmp_path / "a_list.json").write_text(
        json.dumps([{"id": "l-1", "turns": [{"speaker": "bot", "text": "hi"}]}, "not a transcript"])
    )
    (tmp_path / "b_object.json").write_text(json.dumps({"turns": [{"speaker": "agent", "text": "hello"}]}))
    (tmp_path / "c_unknown.json").write_text(json.dumps({"messages": []}))
    (tmp_path / "d_broken.json").write_text('{"turns": [')
    records = read(tmp_path)
    assert [(r.location, r.transcript.id if r.transcript else None) for r in records] == [
        ("item 1", "l-1"),
        ("item 2", None),
        ("file", "b_object"),
        ("file", None),
        ("file", None),
    ]
    assert records[1].reason == "item 2: expected a transcript object, found a string"
    assert records[3].reason.startswith("unrecognised JSON: expected an Amazon Connect Contact Lens analysis")
    assert records[3].reason.endswith("; found keys messages")
    assert records[4].reason == "line 1: invalid JSON: Expecting value (column 12); fix or re-export it"


def test_forced_format_reads_any_extension_and_checks_the_shape(tmp_path):
    (tmp_path / "export.log").write_text(
        json.dumps({"id": "f-1", "turns": [{"speaker": "客服", "text": "您好"}]})
    )
    assert read_one(tmp_path / "export.log", format="jsonl").id == "f-1"
    [record] = read(GOOD / "ccai_hotel_chat.json", format="contact_lens")
    assert record.reason == (
        "not a contact_lens file: expected an object with the list Transcript, and Participants or JobName"
    )


def test_broken_folder_yields_one_record_per_record_read_with_readable_reasons():
    records = read(BROKEN)
    outcome = [(Path(r.source).name, r.location, r.transcript is not None) for r in records]
    assert outcome == [
        ("empty.jsonl", "file", False),
        ("export.xlsx", "file", False),
        ("lines.jsonl", "line 1", True),
        ("lines.jsonl", "line 2", False),
        ("lines.jsonl", "line 3", False),
        ("lines.jsonl", "line 4", False),
        ("lines.jsonl", "line 5", False),
        ("lines.jsonl", "line 6", False),
        ("lines.jsonl", "line 8", True),
        ("missing_text_column.csv", "file", False),
        ("unsorted_ids.csv", "rows 2-3", True),
        ("unsorted_ids.csv", "row 4", True),
        ("unsorted_ids.csv", "row 5", False),
    ]
    reasons = {(Path(r.source).name, r.location): r.reason for r in records if r.reason}
    assert reasons == {
        ("empty.jsonl", "file"): "the file is empty",
        ("export.xlsx", "file"): (
            "unsupported file type '.xlsx'; supported: .jsonl, .ndjson, .json, .csv, .tsv, .parquet, .txt, "
            ".vtt, .srt (also as .gz), or pass --format"
        ),
        ("lines.jsonl", "line 2"): (
            "line 2: invalid JSON: Unterminated string starting at (column 54); "
            "each line must be one complete JSON object"
        ),
        ("lines.jsonl", "line 3"): "line 3: expected a JSON object (one transcript per line), found an array",
        ("lines.jsonl", "line 4"): "line 4: turns: Field required",
        ("lines.jsonl", "line 5"): (
            "line 5: turns.0.speaker: Value error, unknown speaker: use customer, agent, bot, ivr, "
            "system or third_party (or a synonym such as 客户, 客服, 坐席, 机器人, caller) (got '店小二')"
        ),
        ("lines.jsonl", "line 6"): (
            "line 6: cannot decode bytes b'\\xff' as utf-8; fix the bytes, or pass --encoding if the file "
            "uses another encoding"
        ),
        ("missing_text_column.csv", "file"): (
            "no text column: expected one of text, content, utterance, message in the header "
            "(conversation_id, role, message_body); name yours with --column text=COLUMN"
        ),
        ("unsorted_ids.csv", "row 5"): (
            "row 5: rows of transcript 'u-1' are not contiguous (it already appeared at rows 2-3); sort the "
            "file by the 'conversation_id' column so each transcript's rows are together"
        ),
    }
    assert records[7].raw == '{"id": "b-6", "turns": [{"speaker": "customer", "text": "\\xff\\xfe\\xfa"}]}'


def test_positions_are_monotonic_and_end_at_total_bytes():
    paths = [GOOD, BROKEN]
    positions = [record.position for record in iter_records(paths)]
    assert positions == sorted(positions)
    assert (
        positions[-1]
        == total_bytes(paths)
        == sum(f.stat().st_size for folder in paths for f in folder.iterdir() if not f.name.startswith("."))
    )


def test_missing_paths_and_corrupt_gzip_are_rejected_not_raised(tmp_path):
    (tmp_path / "cut.jsonl.gz").write_bytes(gzip.compress(b'{"id": "z"}\n')[:12])
    records = read(tmp_path / "nowhere", tmp_path / "cut.jsonl.gz")
    assert [(r.location, r.reason.split(":")[0]) for r in records] == [
        ("file", "no such file or folder; check the path"),
        ("file", "cannot read this file as jsonl"),
    ]
    assert records[-1].position == total_bytes([tmp_path]) == 12


def test_invalid_options_raise_before_reading():
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        read(GOOD, format="xml")
    with pytest.raises(ValueError, match="unknown encoding 'klingon'"):
        read(GOOD, encoding="klingon")


@pytest.mark.parametrize(
    ("sample", "complete", "expected"),
    [
        ("客服：您好\n".encode("utf-8-sig"), True, "utf-8-sig"),
        ("客服：您好\n".encode(), True, "utf-8"),
        ("客服：您好\n".encode("gbk"), True, "gb18030"),
        ("客服：您好\n".encode()[:-3], False, "utf-8"),
        (("客服：您好\n" * 3).encode() + b"\xff\xfe\n", True, "utf-8"),
    ],
    ids=["bom", "utf8", "gbk", "cut-mid-character", "one-bad-line"],
)
def test_sniff_encoding(sample, complete, expected):
    assert sniff_encoding(sample, complete) == expected


def test_anonymous_subtitle_labels_become_customers_when_a_label_names_the_agent(tmp_path):
    (tmp_path / "mixed.srt").write_text(
        "1\n00:00:01,000 --> 00:00:02,000\nspk_1: 我要退款\n\n"
        "2\n00:00:02,500 --> 00:00:04,000\n客服：好的，马上为您处理\n"
    )
    transcript = read_one(tmp_path / "mixed.srt", guess_speakers=True)
    assert speakers(transcript) == [("customer", "spk_1"), ("agent", "客服")]
    assert "another label names the agent" in transcript.metadata["speaker_guess"]
    assert transcript.metadata["speaker_roles_guessed"] is True


def test_undecodable_bytes_in_a_one_document_file_name_the_line(tmp_path):
    path = tmp_path / "chat.txt"
    path.write_bytes("客户：你好\n".encode() + b"\xff\xfe\n" + "客服：您好\n".encode())
    [record] = read(path)
    assert record.reason == (
        "line 2: cannot decode bytes b'\\xff' as utf-8; fix the bytes, or pass --encoding if the file uses "
        "another encoding"
    )
    assert list(iter_records(str(path))) == [record]


def nested(levels: int) -> str:
    """JSON text of an object nested ``levels`` deep."""
    return '{"a": ' * (levels - 1) + "{}" + "}" * (levels - 1)


def test_poison_jsonl_lines_are_rejected_one_by_one_and_the_lines_around_them_are_read(tmp_path):
    turns = '"turns": [{"speaker": "customer", "text": "ab\\ud800cd"}]'
    lines = [
        '{"id": "ok-1", "turns": [{"speaker": "agent", "text": "hi"}]}',
        '{"id": "emoji", ' + turns + "}",
        '{"id": "deep-300", "metadata": ' + nested(300) + ", " + turns + "}",
        '{"id": "deep-100k", "metadata": ' + nested(100_000) + ", " + turns + "}",
        "[" * 100_000,
        '{"id": "x\\ud83d", ' + turns + "}",
        '{"id": "turn-deep", "turns": [{"speaker": "agent", "text": "hi", "metadata": ' + nested(40) + "}]}",
        '{"id": "meta-list", "metadata": [1, 2], "queue": "vip", ' + turns + "}",
        '{"id": "ok-2", "turns": [{"speaker": "agent", "text": "bye"}]}',
    ]
    path = tmp_path / "poison.jsonl"
    path.write_text("\n".join(lines) + "\n")
    records = read(path)
    too_deep = "JSON nested too deeply to read (Python's parser stops near 1000 levels); flatten it"
    assert [(r.location, r.reason) for r in records] == [
        ("line 1", None),
        ("line 2", None),
        ("line 3", "line 3: metadata: Value error, nested deeper than 32 levels; flatten it"),
        ("line 4", f"line 4: {too_deep}"),
        ("line 5", f"line 5: {too_deep}"),
        ("line 6", "line 6: id: Value error, holds an unpaired surrogate (a truncated emoji?); ids must be exact, "
                   "fix the source"),
        ("line 7", "line 7: turns.0.metadata: Value error, nested deeper than 32 levels; flatten it"),
        ("line 8", "line 8: metadata: Input should be a valid dictionary"),
        ("line 9", None),
    ]
    emoji = records[1].transcript
    assert texts(emoji) == ["ab\ufffdcd"]
    assert emoji.metadata == {
        "warnings": ["turns.0.text: unpaired surrogate (a truncated emoji?) replaced with U+FFFD"]
    }
    for record in records:  # everything a later step writes can be encoded
        shown = record.transcript.model_dump(mode="json") if record.transcript else [record.reason, record.raw]
        json.dumps(shown, ensure_ascii=False).encode("utf-8")


def test_surrogates_in_labels_and_metadata_are_replaced_and_listed_in_one_warning():
    transcript = Transcript.model_validate(json.loads(
        '{"id": "s", "business_line": "food\\udc00", "metadata": {"k\\ud800": ["v\\ud83d"], "warnings": "old"},'
        ' "turns": [{"speaker": "agent", "text": "ok", "speaker_label": "\\ud800"}]}'
    ))
    assert (transcript.business_line, transcript.turns[0].speaker_label) == ("food\ufffd", "\ufffd")
    assert transcript.metadata == {"k\ufffd": ["v\ufffd"], "warnings": [
        "old", "turns.0.speaker_label, business_line, metadata: unpaired surrogate (a truncated emoji?) replaced "
        "with U+FFFD",
    ]}


def test_poison_json_documents_are_rejected_not_raised(tmp_path):
    (tmp_path / "a_deep.json").write_text("[" * 100_000)
    (tmp_path / "b_items.json").write_text('["\\ud800", {"id": "i-1", "turns": [{"speaker": "bot", "text": "hi"}]}]')
    (tmp_path / "c_lens_segments.json").write_text(json.dumps({"Transcript": 5, "Participants": []}))
    (tmp_path / "d_lens_talk_time.json").write_text(json.dumps({
        "Transcript": [{"ParticipantId": "A", "Content": "hi"}],
        "Participants": [{"ParticipantId": "A", "ParticipantRole": "AGENT"}],
        "ConversationCharacteristics": {"TalkTime": {"DetailsByParticipant": {"AGENT": 5}}},
    }))
    (tmp_path / "e_ccai_entries.json").write_text(json.dumps({"entries": 5, "transcript": {"transcriptSegments": [
        {"text": "hi", "segmentParticipant": {"role": "AGENT"}, "messageTime": "9999-12-31T23:59:59-05:00"},
    ]}}))
    (tmp_path / "f_ccai_usec.json").write_text(json.dumps({"entries": [
        {"role": "AGENT", "text": "hi", "start_timestamp_usec": 10**30},
    ]}))
    records = read(tmp_path)
    assert [(Path(r.source).name, r.location, r.transcript is not None) for r in records] == [
        ("a_deep.json", "file", False),
        ("b_items.json", "item 1", False),
        ("b_items.json", "item 2", True),
        ("c_lens_segments.json", "file", False),
        ("d_lens_talk_time.json", "file", True),
        ("e_ccai_entries.json", "file", True),
        ("f_ccai_usec.json", "file", True),
    ]
    assert records[0].reason == "JSON nested too deeply to read (Python's parser stops near 1000 levels); flatten it"
    assert (records[1].reason, records[1].raw) == ("item 1: expected a transcript object, found a string", '"\\ud800"')
    assert records[3].reason.startswith("unrecognised JSON")
    assert records[4].transcript.metadata["talk_time_ms"] == {"AGENT": None}
    assert [turn.ts for turn in records[5].transcript.turns + records[6].transcript.turns] == [None, None]


def test_links_fifos_and_unlistable_folders_are_rejected_not_skipped(tmp_path, monkeypatch):
    folder = tmp_path / "in"
    (folder / "locked").mkdir(parents=True)
    (folder / "a_good.jsonl").write_text('{"id": "g", "turns": [{"speaker": "agent", "text": "hi"}]}\n')
    (folder / "b_dangling.jsonl").symlink_to(folder / "gone.jsonl")
    (folder / "c_loop.jsonl").symlink_to(folder / "c_loop.jsonl")
    (folder / "d_parent").symlink_to(folder)
    (folder / "e_linked.jsonl").symlink_to(folder / "a_good.jsonl")
    os.mkfifo(folder / "f_pipe.jsonl")  # opening it to read would block until a writer comes
    (folder / "locked" / "x.jsonl").write_text('{"id": "x", "turns": [{"speaker": "agent", "text": "hi"}]}\n')
    real_scandir = os.scandir

    def scandir(path):  # tests run as root, whom chmod does not lock out: refuse the listing itself
        if Path(path).name == "locked":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    records = read(folder)
    assert [(Path(r.source).name, r.transcript.id if r.transcript else r.reason) for r in records] == [
        ("a_good.jsonl", "g"),
        ("b_dangling.jsonl", f"a dangling link: its target {folder / 'gone.jsonl'} does not exist; fix or remove it"),
        ("c_loop.jsonl", "a link loop: this symbolic link leads back to itself; fix or remove it"),
        ("d_parent", "a link to a folder: not followed, as links can loop; pass the folder itself to read it"),
        ("e_linked.jsonl", "g"),
        ("f_pipe.jsonl", "not a regular file (a FIFO); only regular files are read"),
        ("locked", "cannot list this folder: Permission denied; check its permissions"),
    ]
    assert records[-1].position == total_bytes([folder]) == 2 * (folder / "a_good.jsonl").stat().st_size
    assert list_inputs(folder) == [Path(r.source) for r in records]
    [fifo] = read(folder / "f_pipe.jsonl")
    assert fifo.reason == "not a regular file (a FIFO); only regular files are read"


def test_long_csv_cells_are_read_and_an_oversized_cell_rejects_only_its_own_transcript(tmp_path):
    long_email = "退款" * 100 * 1024  # 400 KiB of UTF-8, past the csv module's default 128 KiB cell limit
    oversized = "x" * (CSV_FIELD_LIMIT + 1)
    path = tmp_path / "cells.csv"
    path.write_text(
        "id,speaker,text\n"
        f'a,customer,"{long_email}\nsecond line"\na,agent,ok\n'
        f'b,customer,"start\n{oversized}\nmore ""quoted"" text, with a comma\nend"\nb,agent,ok\n'
        f"c,customer,{oversized}\n"
        "d,customer,last\n"
    )
    records = read(path)
    assert [(r.location, r.transcript.id if r.transcript else r.reason) for r in records] == [
        ("rows 2-3", "a"),
        ("rows 4-5", f"rows 4-5: row 4: cannot read it as CSV: field larger than field limit ({CSV_FIELD_LIMIT})"),
        ("row 6", f"row 6: row 6: cannot read it as CSV: field larger than field limit ({CSV_FIELD_LIMIT})"),
        ("row 7", "d"),
    ]
    assert texts(records[0].transcript) == [f"{long_email}\nsecond line", "ok"]
    assert records[1].raw.startswith('b,customer,"start\nxxx')


def test_ids_written_as_numbers_keep_their_text(tmp_path):
    (tmp_path / "a.jsonl").write_text(
        '{"id": 1e999, "customer_id": 1.50, "order_id": 12345678901234567890, "turns": [{"speaker": "agent", '
        '"text": "hi", "start_ms": 1.0e3}]}\n'
        '{"id": NaN, "turns": [{"speaker": "agent", "text": "hi"}]}\n'
    )
    (tmp_path / "b.json").write_text('[{"id": 2.0, "turns": [{"speaker": "agent", "text": "hi"}]}, 3.5]')
    (tmp_path / "c.csv").write_text("id,speaker,text\n1e999,agent,hi\n")
    records = read(tmp_path)
    first = records[0].transcript
    assert (first.id, first.customer_id, first.order_id, first.turns[0].start_ms) == (
        "1e999", "1.50", "12345678901234567890", 1000
    )
    assert records[1].reason == "line 2: id: Value error, the number nan is not an id; write ids as text"
    assert [r.transcript.id if r.transcript else None for r in records[2:]] == ["2.0", None, "1e999"]


PST = timezone(timedelta(hours=-8))


@pytest.mark.parametrize(("value", "expected"), [
    ("2015-02-24 11:35:52 -0800", datetime(2015, 2, 24, 11, 35, 52, tzinfo=PST)),
    ("2024/03/01 12:00", datetime(2024, 3, 1, 12, 0)),
    ("2024-03-01T12:00:00.000+0800", datetime(2024, 3, 1, 12, 0, tzinfo=CST)),
    ("20240301", datetime(2024, 3, 1)),
    ("2024-03-01T12:00:00.123456789Z", datetime(2024, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)),
    ("2024-03-01 09:05:00 PM UTC", datetime(2024, 3, 1, 21, 5, tzinfo=UTC)),
    ("2024-03-01 12:00 AM", datetime(2024, 3, 1, 0, 0)),
    ("2024.3.1", datetime(2024, 3, 1)),
    ("2024年3月1日 12:00", datetime(2024, 3, 1, 12, 0)),
    ("2024年3月1日 12时30分", datetime(2024, 3, 1, 12, 30)),
    ("2024年3月1日12点30分15秒", datetime(2024, 3, 1, 12, 30, 15)),
    (1709294400, datetime(2024, 3, 1, 12, 0, tzinfo=UTC)),
    (1709294400.5, datetime(2024, 3, 1, 12, 0, 0, 500000, tzinfo=UTC)),
    (1709294400123, datetime(2024, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)),
    ("1709294400", datetime(2024, 3, 1, 12, 0, tzinfo=UTC)),
    ("1709294400123", datetime(2024, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)),
    (" ", None),
])
def test_read_time_reads_the_forms_exports_write(value, expected):
    assert read_time(value) == expected


@pytest.mark.parametrize("value", [
    "03/01/2024 12:00", "yesterday", "12:00", "5", 20240301, 1709294400123456, -1709294400,
    float("inf"), True, "2024-13-01", "2024-03-01 25:00", "2024-03-01 13:00 PM", "2024-03-01 12:00 +2500",
    "3000-01-01", "2024-03-0112:00", "2024-03-01 12:00 garbage",
])
def test_read_time_refuses_what_it_would_have_to_guess(value):
    with pytest.raises(ValueError, match="time|number|outside the years"):
        read_time(value)


def test_unreadable_times_are_dropped_with_a_warning_and_the_transcript_is_kept(tmp_path):
    path = tmp_path / "times.csv"
    path.write_text(
        "id,speaker,text,started_at,ts,channel\n"
        "t1,customer,hi,2015-02-24 11:35:52 -0800,1709294400123,微信\n"
        "t1,agent,hello,,soon,\n"
        "t2,customer,hi,next tuesday,2024年3月1日 12时30分,WhatsApp\n"
    )
    first, second = (record.transcript for record in read(path))
    assert (first.started_at, first.turns[0].ts, first.turns[1].ts) == (
        datetime(2015, 2, 24, 11, 35, 52, tzinfo=PST), datetime(2024, 3, 1, 12, 0, 0, 123000, tzinfo=UTC), None
    )
    assert first.metadata["warnings"] == [f"turns.1.ts: cannot read the time 'soon'; {EXPECTED}; dropped"]
    assert (second.started_at, second.turns[0].ts) == (None, datetime(2024, 3, 1, 12, 30))
    assert second.metadata["warnings"] == [f"started_at: cannot read the time 'next tuesday'; {EXPECTED}; dropped"]
    assert (first.channel, first.metadata["channel_original"], second.channel) == ("wechat", "微信", "whatsapp")
    assert "channel_original" not in second.metadata


@pytest.mark.parametrize(("given", "channel", "original"), [
    ("chat", "chat", None),
    ("Voice", "call", "Voice"),
    ("PHONE_CALL", "call", "PHONE_CALL"),
    ("E-Mail", "email", "E-Mail"),
    ("短信", "sms", "短信"),
    ("weibo", "social", "weibo"),
    ("电话", "call", "电话"),
    ("在线", "chat", "在线"),
    ("工单", "ticket", "工单"),
    ("Voicemail", "voicemail", None),
    ("Live Chat", "chat", "Live Chat"),
    ("kiosk", "kiosk", None),
    (" ", None, None),
])
def test_any_channel_is_accepted_and_synonyms_map_to_canonical_names(given, channel, original):
    transcript = Transcript(id="c", channel=given, turns=[{"speaker": "agent", "text": "hi"}])
    assert (transcript.channel, transcript.metadata.get("channel_original")) == (channel, original)
    assert channel is None or channel in CHANNELS or channel == "kiosk"


def test_ids_longer_than_a_key_are_refused():
    from nlp.schema.transcript import MAX_ID_CHARS, Transcript
    turns = [{"speaker": "customer", "text": "hi"}]
    assert Transcript(id="x" * MAX_ID_CHARS, turns=turns).id == "x" * MAX_ID_CHARS
    with pytest.raises(ValueError, match="at most 512 characters"):
        Transcript(id="x" * (MAX_ID_CHARS + 1), turns=turns)
