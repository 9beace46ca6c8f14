"""Taxonomy loading, the keyword journey classifier and topical segmentation, through the pipeline."""

from pathlib import Path

import pytest

from nlp.config import PipelineConfig
from nlp.pipeline import Pipeline
from nlp.schema.taxonomy import TaxonomyError, load_taxonomy
from nlp.schema.transcript import Transcript

MINI = str(Path(__file__).parent / "fixtures" / "taxonomy" / "mini_delivery.yaml")
pipeline = Pipeline(PipelineConfig(default_taxonomy=MINI, taxonomies={}))


def analyze(turns: list[tuple[str, str]], channel: str = "chat"):
    transcript = Transcript(id="t1", channel=channel, turns=[{"speaker": s, "text": t} for s, t in turns])
    return pipeline.analyze([transcript])[0]


def test_stage_carries_forward_from_context() -> None:
    doc = analyze([
        ("bot", "您好，请问有什么可以帮您？"),
        ("customer", "我的外卖超时一个小时了"),
        ("agent", "我帮您联系一下骑手"),
        ("customer", "怎么还没到啊"),
        ("customer", "好的"),
    ])
    assert [u.stage for u in doc.utterances] == ["delivery"] * 5
    assert doc.utterances[0].stage_confidence == 0.3  # backfilled before the first match
    assert doc.utterances[4].stage_confidence < doc.utterances[3].stage_confidence


def test_a_contact_moving_from_delivery_to_refund_has_two_segments() -> None:
    doc = analyze([
        ("customer", "骑手一直联系不上，超时很久了"),
        ("agent", "非常抱歉，骑手那边出了点状况"),
        ("customer", "那我不要了，我要退款"),
        ("agent", "好的，退款会在1到3个工作日到账"),
    ])
    assert [(s.stage, s.first_turn, s.last_turn) for s in doc.segments] == [("delivery", 0, 1), ("refund", 2, 3)]
    assert doc.segments[0].issue_type == "blockage"
    assert [u.segment_index for u in doc.utterances] == [0, 0, 1, 1]


def test_no_keyword_anywhere_is_other() -> None:
    doc = analyze([("customer", "你好"), ("agent", "您好")])
    assert {u.stage for u in doc.utterances} == {"other"}
    assert [s.stage for s in doc.segments] == ["other"]


def test_service_steps_follow_speaker_and_escalation() -> None:
    doc = analyze([
        ("ivr", "欢迎致电，请按1"),
        ("customer", "骑手还没到"),
        ("agent", "我帮您查一下"),
        ("agent", "这个问题我帮您升级给二线专员"),
        ("customer", "好"),
    ], channel="call")
    assert [u.service_step for u in doc.utterances] == [
        "ivr_routing", "ivr_routing", "phone_agent", "escalation", "escalation"]


def test_only_customer_utterances_are_scored_and_segments_average_them() -> None:
    doc = analyze([("customer", "骑手超时了，我要投诉！"), ("agent", "非常抱歉，给您添麻烦了")])
    customer, agent = doc.utterances
    assert customer.emotion == "anger" and customer.sentiment == "negative"
    assert agent.emotion is None and agent.sentiment_score is None
    assert doc.segments[0].sentiment_mean == customer.sentiment_score


def test_pii_is_redacted_in_text_ids_and_metadata() -> None:
    transcript = Transcript(id="t2", customer_id="13812345678", metadata={"phone": "13812345678", "city": "上海"},
                            turns=[{"speaker": "customer", "text": "我电话13812345678，邮箱a@b.com"}])
    doc = pipeline.analyze([transcript])[0]
    assert doc.utterances[0].text == "我电话<PHONE>，邮箱<EMAIL>"
    assert doc.transcript.metadata == {"phone": "<PHONE>", "city": "上海"}
    assert doc.transcript.customer_id.startswith("pii-") and "138" not in doc.transcript.customer_id
    assert pipeline.redact_transcript(transcript).customer_id == doc.transcript.customer_id  # stable


def test_bad_taxonomy_names_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nstages:\n  - id: Delivery\n    name: 配送\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"bad.yaml: stages.0.id: .*pattern.*; stages.0.phase: Field required"):
        load_taxonomy(str(bad))
    with pytest.raises(TaxonomyError, match="not found"):
        load_taxonomy("no_such_taxonomy")
