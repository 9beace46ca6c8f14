"""Journey stages: taxonomy files, the few-shot classifier with its sequence model, segments, CLI commands."""

from __future__ import annotations

import csv
import gzip
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nlp.config import PipelineConfig
from nlp.pipeline import Pipeline
from nlp.schema.taxonomy import TaxonomyError, builtin_taxonomies, load_taxonomy, parse_taxonomy
from nlp.schema.transcript import Transcript
from nlp.steps.registry import load_journey_classifier
from nlp.steps.stages.fewshot import FewShotJourneyClassifier
from nlp.steps.stages.heads import head_paths
from nlp.steps.stages.sequence import StageHMM
from nlp.training.stages import adapt

FIXTURES = Path(__file__).parent / "fixtures"
MINI = FIXTURES / "taxonomy" / "mini_delivery.yaml"
ZH_DEV = FIXTURES / "stages" / "zh_dev.jsonl"
# the same names as before the rows were derived from nlp.schema's Utterance; text now comes in the record's order
ANALYZE_FIELDS = ["transcript_id", "turn_index", "speaker", "speaker_label", "text", "start_ms", "end_ms", "ts",
                  "segment_index", "stage", "stage_confidence", "issue_type", "service_step", "sentiment",
                  "sentiment_score", "emotion", "emotion_coarse", "categories", "char_start", "char_end",
                  "vendor_sentiment", "vendor_issues", "vendor_categories"]

fewshot = Pipeline(PipelineConfig(journey_classifier="fewshot-untrained"))


def analyze(turns: list[tuple[str, str]], taxonomy: str = "food_delivery", channel: str = "chat"):
    transcript = Transcript(id="t1", channel=channel, turns=[{"speaker": s, "text": t} for s, t in turns])
    return fewshot.analyze([transcript], [taxonomy])[0]


def turn_stages(doc) -> list[str]:
    """The stage of each turn's first utterance."""
    first: dict[int, str] = {}
    for u in doc.utterances:
        first.setdefault(u.turn_index, u.stage)
    return [first[i] for i in sorted(first)]


# -- taxonomy files -----------------------------------------------------------------------------------------
MINIMAL = """\
name: t
stages:
  - id: a
    name: A
    phase: in_sale
{extra}"""


@pytest.mark.parametrize(("extra", "message"), [
    ("    parent: nowhere\n", r"stages.0.parent: stage 'a': parent 'nowhere' is not a stage id \(line 6\)"),
    ("  - id: b\n    name: B\n    phase: in_sale\n    parent: b\n", r"parent stages form a cycle"),
    ("  - id: a\n    name: A2\n    phase: in_sale\n",
     r"stages.1.id: duplicate ids \['a'\]: give each entry its own id \(line 6\)"),
    ("  - id: other\n    name: 其他\n    phase: in_sale\n", r"stages.1: 'other' is reserved.* \(line 6\)"),
    ("    keywords: [骑手, '']\n", r"stages.0: a: keywords has an empty entry: remove it \(line 3\)"),
    ("    phase: during\n", r"not valid YAML|stages.0.phase"),
])
def test_taxonomy_errors_name_the_entry_the_line_and_the_fix(extra: str, message: str) -> None:
    with pytest.raises(TaxonomyError, match=message):
        parse_taxonomy(MINIMAL.format(extra=extra), "journey.yaml")


def test_taxonomy_error_names_file_field_and_line() -> None:
    text = "name: x\nstages:\n  - id: a\n    name: A\n    phase: in_sale\n  - id: B\n    name: B\n    phase: pre\n"
    with pytest.raises(TaxonomyError) as error:
        parse_taxonomy(text, "mine.yaml")
    message = str(error.value)
    assert message.startswith("mine.yaml: ")
    assert "stages.1.id: String should match pattern" in message and "(line 6)" in message
    assert "stages.1.phase: Input should be 'pre_sale', 'in_sale' or 'after_sale' (line 8)" in message


def test_issue_subtypes_must_name_known_stages() -> None:
    text = MINIMAL.format(extra="issue_types:\n  - id: doubt\n    name: 疑虑\n    subtypes:\n"
                                "      - id: q\n        name: 查询\n        stages: [a, z]\n")
    with pytest.raises(TaxonomyError, match=r"issue subtype 'q': stages \['z'\] are not stage ids"):
        parse_taxonomy(text)


def test_optional_fields_parent_owner_and_process_steps_load() -> None:
    taxonomy = load_taxonomy("car_rental")
    claim = next(s for s in taxonomy.stages if s.id == "damage_claim")
    assert claim.parent == "return_car" and claim.owner == "定损理赔"
    approval = next(s for s in taxonomy.stages if s.id == "approval")
    assert approval.process_steps[0] == "提交申请"


@pytest.mark.parametrize("name", ["food_delivery", "hotel_stay", "ecommerce", "car_rental"])
def test_builtin_taxonomies_load_with_examples_issue_types_and_steps(name: str) -> None:
    taxonomy = load_taxonomy(name)
    assert name in builtin_taxonomies()
    assert all(len(stage.examples) >= 5 for stage in taxonomy.stages)
    assert {s.phase for s in taxonomy.stages} == {"pre_sale", "in_sale", "after_sale"}
    assert [i.id for i in taxonomy.issue_types] == ["doubt", "defect", "blockage"]
    assert [i.name for i in taxonomy.issue_types] == ["疑虑", "瑕疵", "阻塞"]
    assert all(issue.subtypes for issue in taxonomy.issue_types)
    assert {"escalation", "third_party"} <= {s.id for s in taxonomy.service_steps}


def test_ecommerce_business_line_uses_the_ecommerce_taxonomy() -> None:
    config = PipelineConfig()
    assert config.taxonomy_for("ecommerce") == "ecommerce"
    demo_stages = {"installation", "after_sale"}  # generate_demo.py plants them: the 618 projector story
    assert demo_stages <= set(load_taxonomy("ecommerce").stage_ids)


# -- the few-shot classifier and its sequence model ---------------------------------------------------------
def test_customer_reply_without_stage_words_takes_the_stage_of_the_agents_question() -> None:
    doc = analyze([
        ("agent", "您好，请问有什么可以帮您？"),
        ("customer", "我中午点的餐"),
        ("agent", "请问骑手现在显示在什么位置？"),
        ("customer", "一直没动"),
        ("customer", "还没到"),
    ])
    assert turn_stages(doc) == ["delivery"] * 5
    assert all(0.0 <= u.stage_confidence <= 1.0 for u in doc.utterances)


def test_still_not_here_after_a_delivery_question_is_delivery_in_a_taxonomy_without_that_keyword(tmp_path) -> None:
    taxonomy = tmp_path / "two.yaml"
    taxonomy.write_text(
        "name: two\nstages:\n"
        "  - id: delivery\n    name: 配送\n    phase: in_sale\n    keywords: [骑手, 配送]\n"
        "    examples: [骑手到哪了, 配送太慢了]\n"
        "  - id: refund\n    name: 退款\n    phase: after_sale\n    keywords: [退款, 退钱]\n"
        "    examples: [我要退款, 钱什么时候退]\n", encoding="utf-8")
    classifier = FewShotJourneyClassifier(load_taxonomy(str(taxonomy)))
    labels, confidence = classifier.label_sequences([[("agent", "请问骑手现在到哪里了？"), ("customer", "还没到")]])[0]
    assert labels == ["delivery", "delivery"]
    assert confidence[1] > 0.5


def test_a_late_delivery_then_a_refund_is_two_segments() -> None:
    doc = analyze([
        ("customer", "骑手一直联系不上，已经超时四十分钟了"),
        ("agent", "非常抱歉，我帮您联系一下骑手"),
        ("customer", "算了不要了，我要退款"),
        ("agent", "好的，已为您申请全额退款，一到三个工作日原路退回"),
        ("customer", "好的谢谢"),
    ])
    assert [(s.stage, s.first_turn, s.last_turn) for s in doc.segments] == [("delivery", 0, 1), ("refund", 2, 4)]
    assert [u.segment_index for u in doc.utterances] == [0, 0, 1, 1, 1]
    assert doc.segments[0].issue_type == "blockage"


def test_off_topic_contact_is_other() -> None:
    doc = analyze([("customer", "你好，请问你们公司还招兼职吗"), ("agent", "您好，招聘信息请关注官方网站"),
                   ("customer", "好的谢谢")])
    assert {u.stage for u in doc.utterances} == {"other"}
    assert [s.stage for s in doc.segments] == ["other"]


def test_english_text_is_classified_too() -> None:
    doc = analyze([("customer", "My rider has not arrived yet and the order is 40 minutes late"),
                   ("agent", "Sorry, let me check where the courier is"), ("customer", "OK")])
    assert {u.stage for u in doc.utterances} == {"delivery"}


def test_hmm_posteriors_are_distributions_and_switches_need_evidence() -> None:
    hmm = StageHMM(3, switch_prob=0.05, context_switch_factor=0.3)  # customers open new topics
    flat = np.ones(3)
    emissions = np.array([[20.0, 0.2, 0.1], flat, flat, [0.2, 20.0, 0.1], flat])
    path, confidence = hmm.decode(emissions, np.array([True, True, False, True, False]))
    assert path.tolist() == [0, 0, 0, 1, 1]
    assert np.allclose(hmm.posteriors(emissions).sum(axis=1), 1.0)
    assert ((confidence > 0) & (confidence <= 1)).all()
    assert hmm.decode(np.ones((4, 3)))[0].tolist() == [2, 2, 2, 2]  # nothing points at a stage: other


def test_hmm_a_topic_starts_where_it_is_first_mentioned() -> None:
    hmm = StageHMM(3, switch_prob=0.05)
    # two utterances between the topics lean slightly towards the second one, without naming it
    emissions = np.array([[50.0, 1.0, 1.0], [1.0, 1.05, 1.0], [1.0, 1.05, 1.0], [1.0, 50.0, 1.0]])
    assert hmm.decode(emissions)[0].tolist() == [0, 1, 1, 1]
    no_evidence = np.ones((4, 3))
    no_evidence[1:3, :2] = 0.1  # entering a stage there costs ten times more
    assert hmm.decode(emissions, entry=no_evidence)[0].tolist() == [0, 0, 0, 1]
    assert np.allclose(hmm.posteriors(emissions, entry=no_evidence).sum(axis=1), 1.0)


def test_thanks_between_two_topics_stays_with_the_first() -> None:
    classifier = FewShotJourneyClassifier(load_taxonomy("food_delivery"))
    labels, _ = classifier.label_sequences([[
        ("customer", "骑手超时四十分钟了还没送到"), ("agent", "非常抱歉，我催一下骑手"), ("customer", "好的，谢谢"),
        ("agent", "请问还有什么可以帮您"), ("customer", "另外上周那单我申请了退款，钱一直没退回来"),
        ("agent", "我帮您查一下退款进度"),
    ]])[0]
    assert labels == ["delivery"] * 4 + ["refund"] * 2


def test_english_keywords_match_plurals_and_verb_forms() -> None:
    from nlp.steps.stages.fewshot import match_tokens

    assert match_tokens("Two museums, 骑手 booked trains") == ["two", "museum", "骑", "手", "book", "train"]


def test_fewshot_beats_the_stage_name_baseline_on_the_chinese_dev_set() -> None:
    records = [json.loads(line) for line in ZH_DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    right = total = 0
    for record in records:
        classifier = FewShotJourneyClassifier(load_taxonomy(record["taxonomy"]))
        labels, _ = classifier.label_sequences([[(t["speaker"], t["text"]) for t in record["turns"]]])[0]
        right += sum(label == t["stage"] for label, t in zip(labels, record["turns"], strict=True))
        total += len(labels)
    assert right / total >= 0.8


# -- commands -----------------------------------------------------------------------------------------------
def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nlp.cli", *args], capture_output=True, text=True, timeout=300,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})


def test_analyze_writes_one_json_line_per_utterance(tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    done = run_cli("analyze", str(ZH_DEV), "--taxonomy", "food_delivery", "--classifier", "fewshot",
                   "--output", str(output))
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert list(rows[0]) == ANALYZE_FIELDS
    assert {r["transcript_id"] for r in rows} >= {"fd01", "fd02", "ot01"}
    fd02 = [r for r in rows if r["transcript_id"] == "fd02"]
    assert [r["segment_index"] for r in fd02] == sorted(r["segment_index"] for r in fd02)
    assert {r["stage"] for r in fd02} == {"delivery", "refund"}
    customer = [r for r in rows if r["speaker"] == "customer"]
    assert all(r["sentiment"] is not None and r["emotion"] is not None for r in customer)
    assert "utterances" in done.stdout


def test_analyze_quarantines_bad_records_and_counts_reconcile(tmp_path: Path) -> None:
    archive = tmp_path / "mixed.jsonl"
    good = ZH_DEV.read_text(encoding="utf-8").splitlines()[:3]
    archive.write_text("\n".join([good[0], "{not json", good[1], '{"id": "no-turns"}', good[2]]) + "\n",
                       encoding="utf-8")
    output = tmp_path / "out.jsonl"
    done = run_cli("analyze", str(archive), "--taxonomy", "food_delivery", "--output", str(output))
    assert done.returncode == 0, done.stderr[-2000:]
    assert len({json.loads(line)["transcript_id"] for line in output.read_text(encoding="utf-8").splitlines()}) == 3
    quarantined = [json.loads(line) for line in (tmp_path / "out.jsonl.quarantine.jsonl").read_text().splitlines()]
    assert [q["location"] for q in quarantined] == ["line 2", "line 4"]
    assert all(q["reason"] for q in quarantined)
    assert "read 5 · analysed 3 transcripts" in done.stdout and "quarantined 2" in done.stdout


def test_analyze_rejects_an_unknown_taxonomy(tmp_path: Path) -> None:
    done = run_cli("analyze", str(ZH_DEV), "--taxonomy", "no_such_journey", "--output", str(tmp_path / "o.jsonl"))
    assert done.returncode != 0 and "not found" in done.stderr


def test_train_stages_saves_a_head_next_to_the_taxonomy_and_fewshot_uses_it(tmp_path: Path) -> None:
    taxonomy = tmp_path / "mini.yaml"
    shutil.copy(MINI, taxonomy)
    labels = tmp_path / "labels.csv"
    rows = [("t1", 0, "外卖小哥还在路上吗", "delivery"), ("t1", 1, "等了一个小时了", "delivery"),
            ("t1", 2, "那我不要了，把钱还我", "refund"), ("t2", 0, "饭菜是冷的", "eating"),
            ("t2", 1, "盒饭里的菜都凉透了", "eating"), ("t2", 2, "钱退回哪里", "refund")] * 4
    with labels.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["transcript_id", "turn_index", "text", "stage"])
        writer.writerows(rows)
    done = run_cli("train-stages", "--taxonomy", str(taxonomy), "--labels", str(labels))
    assert done.returncode == 0, done.stderr[-2000:]
    weights, metadata = head_paths(taxonomy)
    assert weights.is_file() and metadata.is_file()
    meta = json.loads(metadata.read_text(encoding="utf-8"))
    assert meta["classes"] == ["delivery", "eating", "refund"] and meta["n_labelled"] == len(rows)
    classifier = load_journey_classifier(load_taxonomy(str(taxonomy)), "fewshot")
    assert "+head:" in classifier.version
    out = classifier.label_sequences([[("customer", "外卖小哥还在路上吗")], [("customer", "菜都凉透了")]])
    assert [labels[0] for labels, _ in out] == ["delivery", "eating"]
    untrained = load_journey_classifier(load_taxonomy(str(taxonomy)), "fewshot-untrained")
    assert "+head" not in untrained.version


def test_train_stages_self_trains_on_unlabelled_transcripts(tmp_path: Path) -> None:
    taxonomy = tmp_path / "food.yaml"
    shutil.copy(load_taxonomy("food_delivery").source, taxonomy)
    unlabelled = tmp_path / "unlabelled.jsonl"
    unlabelled.write_text(ZH_DEV.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    done = run_cli("train-stages", "--taxonomy", str(taxonomy), "--unlabelled", str(unlabelled))
    assert done.returncode == 0, done.stderr[-2000:]
    meta = json.loads(head_paths(taxonomy)[1].read_text(encoding="utf-8"))
    assert meta["self_trained_utterances"] > 20 and meta["labels_file"] is None
    assert re.search(r"unreadable unlabelled records \(skipped\)\s*│?\s*1\b", done.stdout), done.stdout


def test_train_stages_explains_bad_labels(tmp_path: Path) -> None:
    taxonomy = tmp_path / "mini.yaml"
    shutil.copy(MINI, taxonomy)
    labels = tmp_path / "labels.csv"
    labels.write_text("text,stage\n骑手没到,delivery\n东西坏了,warranty\n", encoding="utf-8")
    done = run_cli("train-stages", "--taxonomy", str(taxonomy), "--labels", str(labels))
    assert done.returncode != 0 and "warranty" in done.stderr and "not in taxonomy" in done.stderr


# -- adapting to the input (self-training without labels) ---------------------------------------------------
DEMO = Path(__file__).parent.parent / "data" / "demo"


def demo_food_contacts(n: int) -> tuple[list[list[tuple[str, str]]], list[list[str]]]:
    """The first ``n`` food-delivery contacts of the demo archive as (speaker, text) turns, and their planted
    per-turn stages."""
    with gzip.open(DEMO / "truth.jsonl.gz", "rt", encoding="utf-8") as handle:
        truth = {t["id"]: [turn["stage"] for turn in t["turns"]] for t in map(json.loads, handle)}
    turns, gold = [], []
    with gzip.open(DEMO / "archive.jsonl.gz", "rt", encoding="utf-8") as handle:
        for record in map(json.loads, handle):
            if record["business_line"] == "food_delivery" and len(turns) < n:
                turns.append([(t["speaker"], t["text"]) for t in record["turns"]])
                gold.append(truth[record["id"]])
    return turns, gold


def test_adapting_to_unlabelled_contacts_labels_them_better() -> None:
    contacts, gold = demo_food_contacts(300)
    plain = FewShotJourneyClassifier(load_taxonomy("food_delivery"))
    adaptation = adapt(plain, contacts)
    assert adaptation.classifier is not None, adaptation.reason
    assert adaptation.confident_utterances >= 1000 and "+head:" in adaptation.classifier.version

    def accuracy(classifier: FewShotJourneyClassifier) -> float:
        labelled = classifier.label_sequences(contacts)
        pairs = [(p, g) for (labels, _), stages in zip(labelled, gold, strict=True)
                 for p, g in zip(labels, stages, strict=True)]
        return sum(p == g for p, g in pairs) / len(pairs)

    assert accuracy(adaptation.classifier) > accuracy(plain) + 0.01


def test_adapting_declines_on_a_handful_of_contacts_and_keeps_a_trained_head() -> None:
    contacts, _ = demo_food_contacts(10)
    plain = FewShotJourneyClassifier(load_taxonomy("food_delivery"))
    declined = adapt(plain, contacts)
    assert declined.classifier is None and "adapting needs 1000" in declined.reason
    adapted = adapt(plain, demo_food_contacts(300)[0]).classifier
    assert adapt(adapted, contacts).reason == "the classifier already has a trained head"


def test_analyze_adapt_reads_the_input_twice_and_says_what_it_did(tmp_path: Path) -> None:
    archive = tmp_path / "food.jsonl"
    with gzip.open(DEMO / "archive.jsonl.gz", "rt", encoding="utf-8") as handle:
        lines = [line for line in handle if json.loads(line)["business_line"] == "food_delivery"][:200]
    archive.write_text("".join(lines) + "{not json\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    done = run_cli("analyze", str(archive), "--classifier", "fewshot", "--adapt", "--output", str(output))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "food_delivery: adapted to 200 contacts" in done.stdout
    assert "read 201 · analysed 200 transcripts" in done.stdout and "quarantined 1" in done.stdout
    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert len({r["transcript_id"] for r in rows}) == 200 and all(r["stage"] for r in rows)
    small = run_cli("analyze", str(ZH_DEV), "--taxonomy", "food_delivery", "--classifier", "fewshot", "--adapt",
                    "--output", str(tmp_path / "small.jsonl"))
    assert small.returncode == 0 and "food_delivery: not adapted" in small.stdout
    keyword = run_cli("analyze", str(archive), "--classifier", "keyword", "--adapt", "--output", str(output))
    assert keyword.returncode != 0 and "--adapt needs --classifier fewshot" in keyword.stderr
