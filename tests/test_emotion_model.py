"""The shipped transformer emotion models, the scorer around them, and ``journeylens score-text``."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from nlp.resources import models_dir  # noqa: E402
from nlp.schema.document import Utterance  # noqa: E402
from nlp.steps.emotion.labels import COARSE_EMOTIONS, FINE_EMOTIONS, FINE_TO_COARSE  # noqa: E402
from nlp.steps.registry import load_emotion_scorer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _utterance(text: str, language: str) -> Utterance:
    return Utterance(turn_index=0, sentence_index=0, speaker="customer", text=text, language=language, tokens=())


@pytest.fixture(scope="module")
def scorer():
    return load_emotion_scorer("transformer")


def _check(score) -> None:
    assert score.sentiment in ("negative", "neutral", "positive")
    assert -1.0 <= score.sentiment_score <= 1.0
    assert score.emotion in FINE_EMOTIONS
    assert score.emotion_coarse in COARSE_EMOTIONS
    assert FINE_TO_COARSE[score.emotion] == score.emotion_coarse
    assert 0.0 <= score.emotion_confidence <= 1.0


def test_shipped_models_are_complete_and_small():
    for language in ("zh", "en"):
        folder = models_dir() / f"emotion-{language}"
        assert (folder / "config.json").exists() and (folder / "README.md").exists()
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        assert size <= 40 * 1024 * 1024, f"{folder} is {size / 2**20:.1f} MiB"
    assert (models_dir() / "emotion-zh" / "model.safetensors").exists()


def test_outputs_in_range_and_label_sets(scorer):
    texts = [("你们这什么破服务，气死我了！", "zh"), ("谢谢你，帮了大忙了", "zh"), ("订单号是 123456789012", "zh"),
             ("", "zh"), ("This is ridiculous, I have waited two hours!", "en"), ("Thanks a lot!", "en"),
             ("My order number is 55512", "en"), ("好" * 600, "zh")]
    scores = scorer.score([_utterance(t, lang) for t, lang in texts])
    assert len(scores) == len(texts)
    for score in scores:
        _check(score)
    assert scorer.name == "transformer" and scorer.version


@pytest.mark.parametrize(("text", "sentiment"), [
    ("你们这是什么破服务！等了两个小时还没送到，气死我了，我要投诉！", "negative"),
    ("太感谢你了，问题解决得很快，服务特别好！", "positive"),
    ("我的订单号是 202408150123，请帮我查一下。", "neutral"),
    ("请问我的订单现在到哪里了？", "neutral"),
])
def test_clear_chinese_sentences(scorer, text, sentiment):
    (score,) = scorer.score([_utterance(text, "zh")])
    assert score.sentiment == sentiment, score
    if sentiment == "negative":
        assert score.emotion_coarse in ("anger", "sadness", "fear") and score.sentiment_score < -0.2
    elif sentiment == "positive":
        assert score.emotion_coarse == "joy" and score.sentiment_score > 0.2
    else:
        assert score.emotion == "neutral"


@pytest.mark.parametrize(("text", "sentiment"), [
    ("This is absolutely ridiculous, I have been waiting for two hours and nobody helps me!", "negative"),
    ("Thank you so much, that was really helpful!", "positive"),
    ("I need to book a hotel in the east for two nights.", "neutral"),
])
def test_clear_english_sentences(scorer, text, sentiment):
    (score,) = scorer.score([_utterance(text, "en")])
    assert score.sentiment == sentiment, score


def test_language_routing_auto(scorer):
    scores = scorer.score_texts(["谢谢你，太感谢了！", "Thank you so much, that was really helpful!"], ["auto", "auto"])
    assert [s.sentiment for s in scores] == ["positive", "positive"]
    assert set(scorer._models) == {"zh", "en"}


def _tiny_model(folder: Path, labels: dict[int, str]) -> Path:
    """A randomly initialised tiny BERT classifier with its own vocabulary, saved like any HF model."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    torch.manual_seed(0)
    folder.mkdir(parents=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"abcdefghijklmnopqrstuvwxyz0123456789", "好", "差",
             "谢", "订", "单"]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab=str(folder / "vocab.txt")).save_pretrained(folder)
    config = BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=64, num_labels=len(labels),
                        id2label=labels, label2id={v: k for k, v in labels.items()})
    BertForSequenceClassification(config).save_pretrained(folder)
    return folder


def test_user_hf_model_directory(tmp_path):
    folder = _tiny_model(tmp_path / "sentiment", {0: "negative", 1: "neutral", 2: "positive"})
    scorer = load_emotion_scorer(f"transformer:{folder}")
    scores = scorer.score([_utterance("好", "zh"), _utterance("bad service", "en"), _utterance("订单" * 300, "zh")])
    assert len(scores) == 3
    for score in scores:
        _check(score)
    assert {s.emotion for s in scores} <= {"disappointment", "neutral", "satisfaction"}

    emotions = _tiny_model(tmp_path / "emotions", {0: "anger", 1: "joy", 2: "sadness", 3: "neutral", 4: "fear"})
    for score in load_emotion_scorer(f"transformer:{emotions}").score([_utterance("差", "zh")]):
        _check(score)


def test_user_model_with_unnamed_labels_is_refused(tmp_path):
    folder = _tiny_model(tmp_path / "unnamed", {0: "LABEL_0", 1: "LABEL_1"})
    with pytest.raises(ValueError, match="id2label"):
        load_emotion_scorer(f"transformer:{folder}")


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "nlp.cli", *args], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env=env)


def test_score_text_csv_with_quarantine(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text(
        "id,body,channel\n"
        "1,你们这是什么破服务，气死我了！,app\n"
        "2,太感谢了，服务很好,phone\n"
        "3,,app\n"  # empty text
        "4,a,b,c,d\n"  # wrong field count
        '5,"Thank you so much, that was really helpful!",web\n',
        encoding="utf-8")
    output = tmp_path / "out.csv"
    done = _cli("score-text", str(source), "--text-column", "body", "--output", str(output), "--scorer", "transformer")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(output.open(encoding="utf-8")))
    quarantine = [json.loads(line) for line in (tmp_path / "out.csv.quarantine.jsonl").open(encoding="utf-8")]
    assert len(rows) + len(quarantine) == 5
    assert [r["id"] for r in rows] == ["1", "2", "5"]
    assert sorted(q["location"] for q in quarantine) == ["line 4", "line 5"]  # file lines of rows 3 and 4
    assert {q["reason"].split(":")[0] for q in quarantine} == {"'body' is empty", "expected 3 fields, found 5"}
    assert list(rows[0])[:3] == ["id", "body", "channel"]
    for row in rows:
        assert row["sentiment"] in ("negative", "neutral", "positive")
        assert -1 <= float(row["sentiment_score"]) <= 1 and 0 <= float(row["emotion_confidence"]) <= 1
        assert row["emotion"] in FINE_EMOTIONS and row["emotion_coarse"] in COARSE_EMOTIONS
    assert rows[0]["sentiment"] == "negative" and rows[1]["sentiment"] == "positive"
    assert "read 5 rows" in done.stderr and "quarantined 2" in done.stderr


def test_score_text_jsonl(tmp_path):
    source = tmp_path / "in.jsonl"
    lines = [json.dumps({"text": "请问我的订单到哪里了？", "meta": {"k": 1}}, ensure_ascii=False), "{not json",
             json.dumps([1, 2]), json.dumps({"other": "x"}), json.dumps({"text": 42}),
             json.dumps({"text": "This is the worst, I am so angry!"})]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    config = tmp_path / "journeylens.yaml"
    config.write_text("emotion_scorer: transformer\n", encoding="utf-8")  # the scorer `journeylens score` would use
    done = _cli("score-text", str(source), "--output", str(output), "--lang", "auto", "--config", str(config))
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in output.open(encoding="utf-8")]
    quarantine = [json.loads(line) for line in (tmp_path / "out.jsonl.quarantine.jsonl").open(encoding="utf-8")]
    assert len(rows) == 2 and len(quarantine) == 4
    assert rows[0]["meta"] == {"k": 1} and rows[0]["sentiment"] == "neutral"
    assert rows[1]["sentiment"] == "negative"
    assert [q["location"] for q in quarantine] == ["line 2", "line 3", "line 4", "line 5"]


def test_score_text_detects_gbk_and_quarantines_redacted_rows(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes("id,body,channel\n"
                       "1,你们这是什么破服务，气死我了！,app\n"
                       "2,太感谢了，服务很好,phone\n"
                       "3,,回电13912345678\n".encode("gbk")  # empty text: quarantined with the phone number
                       + b"4,\xff\xfe\xff,app\n")  # bytes that are not GBK
    output = tmp_path / "out.csv"
    done = _cli("score-text", str(source), "--text-column", "body", "--output", str(output))
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(output.open(encoding="utf-8")))
    assert [(r["body"], r["sentiment"]) for r in rows] == [("你们这是什么破服务，气死我了！", "negative"),
                                                           ("太感谢了，服务很好", "positive")]
    text = (tmp_path / "out.csv.quarantine.jsonl").read_text(encoding="utf-8")
    quarantine = [json.loads(line) for line in text.splitlines()]
    assert [(q["location"], q["reason"].split(":")[0]) for q in quarantine] == [
        ("line 4", "'body' is empty"), ("line 5", "undecodable text")]
    assert "13912345678" not in text and "<PHONE>" in text
    assert "read 4 rows" in done.stderr and "quarantined 2" in done.stderr


def test_score_text_quarantines_poison_rows_and_scores_the_rest(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join([json.dumps({"text": "太感谢了，服务很好"}, ensure_ascii=False),
                                 '{"text": "好\\ud83d"}',  # a lone surrogate: a truncated emoji
                                 "[" * 100_000,
                                 json.dumps({"text": "气死我了！"}, ensure_ascii=False)]) + "\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    done = _cli("score-text", str(source), "--output", str(output))
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["text"] for line in output.open(encoding="utf-8")] == ["太感谢了，服务很好", "气死我了！"]
    quarantine = [json.loads(line) for line in (tmp_path / "out.jsonl.quarantine.jsonl").open(encoding="utf-8")]
    assert [(q["location"], q["reason"].split(":")[0]) for q in quarantine] == [
        ("line 2", "undecodable text"), ("line 3", "invalid JSON")]
    assert "read 4 rows · wrote 2" in done.stderr


def test_score_text_in_process_counts_reconcile(tmp_path):
    from nlp.ingest.score_text import score_text_file

    source = tmp_path / "in.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text"])
        for i in range(600):
            writer.writerow(["" if i % 7 == 0 else f"第{i}单，请问什么时候到？"])
    seen = []
    done = score_text_file(source, tmp_path / "out.jsonl", scorer="transformer", batch_size=128,
                           on_progress=lambda read, rows: seen.append(rows))
    assert done.rows_read == 600 == done.rows_written + done.rows_quarantined
    assert done.rows_quarantined == 86 and seen == sorted(seen) and len(seen) >= 4
    assert sum(1 for _ in (tmp_path / "out.jsonl").open(encoding="utf-8")) == done.rows_written


def test_int8_quantised_model_agrees_with_full_precision():
    from nlp.steps.emotion.transformer import EmotionModel

    texts = ["你们这是什么破服务！等了两个小时还没送到，气死我了！", "太感谢你了，问题解决得很快，服务特别好！",
             "我的订单号是 202408150123，请帮我查一下。", "菜都凉了，再也不点了", "味道不错，送得也快"]
    full = EmotionModel(models_dir() / "emotion-zh", quantize=False).predict(texts)
    int8 = EmotionModel(models_dir() / "emotion-zh", quantize=True).predict(texts)
    assert [s.sentiment for s in full] == [s.sentiment for s in int8] == [
        "negative", "positive", "neutral", "negative", "positive"]
    assert [s.emotion for s in full] == [s.emotion for s in int8] == [
        "anger", "gratitude", "neutral", "disappointment", "satisfaction"]
    # measured (torch 2.13 CPU, x86 quantized engine): largest sentiment-score gap 0.0043, confidence gap 0.0025;
    # the tolerances are about three times that
    assert max(abs(a.sentiment_score - b.sentiment_score) for a, b in zip(full, int8, strict=True)) < 0.013
    assert max(abs(a.emotion_confidence - b.emotion_confidence) for a, b in zip(full, int8, strict=True)) < 0.008


def test_english_model_ships_only_what_it_adds_to_the_packaged_encoder():
    from safetensors import safe_open
    from transformers import AutoTokenizer

    folder = models_dir() / "emotion-en"
    assert not (folder / "model.safetensors").exists()
    with safe_open(str(folder / "adapter.safetensors"), "pt") as tensors:
        keys = list(tensors.keys())
    assert keys and not any("embeddings" in k for k in keys)
    assert any(k.startswith("classifier.") for k in keys)
    assert AutoTokenizer.from_pretrained(str(folder)).tokenize("Thanks a lot")
