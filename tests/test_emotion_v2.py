"""The fast (n-gram student) and encoder (v2: e5 head + n-gram) emotion scorers, their loader specs, and
``journeylens train-emotion`` on a small labelled file."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

from nlp.config import PipelineConfig
from nlp.pipeline import Pipeline
from nlp.resources import models_dir
from nlp.schema.transcript import Transcript
from nlp.steps.emotion.e5 import EncoderEmotionModel, EncoderEmotionScorer
from nlp.steps.emotion.labels import COARSE_EMOTIONS, FINE_EMOTIONS
from nlp.steps.emotion.ngram import NgramEmotionScorer, NgramModel
from nlp.steps.registry import load_emotion_scorer
from nlp.steps.stages.embedding import TextVectors, set_shared_vectors
from nlp.training.emotion_user import LabelFileError, allowed_sets, read_label_file, read_label_map

FIXTURES = Path(__file__).parent / "fixtures" / "emotion_labels"
FAST = models_dir() / "emotion-fast"
V2 = models_dir() / "emotion-v2"


@pytest.fixture(scope="module")
def fast() -> NgramEmotionScorer:
    return NgramEmotionScorer()


def test_fast_reads_customer_service_turns(fast: NgramEmotionScorer) -> None:
    texts = ["等了两个小时还没送到，气死我了", "太谢谢你了，问题解决了", "我的订单号是3040389220374355",
             "请问骑手现在到哪里了", "This is the worst service ever, I want a refund now!", "Thank you so much!",
             "I need to book a hotel in the east."]
    scores = fast.score_texts(texts)
    assert [s.sentiment for s in scores] == ["negative", "positive", "neutral", "neutral", "negative", "positive",
                                             "neutral"]
    assert scores[0].emotion_coarse == "anger" and scores[1].emotion in ("gratitude", "satisfaction")
    for s in scores:
        assert -1 <= s.sentiment_score <= 1 and 0 <= s.emotion_confidence <= 1
        assert s.emotion in FINE_EMOTIONS and s.emotion_coarse in COARSE_EMOTIONS


def test_fast_probabilities_are_distributions_and_score_is_their_difference(fast: NgramEmotionScorer) -> None:
    texts = ["饭菜都洒了", "好的", ""]
    sentiment, fine = fast.probabilities(["饭菜都洒了", "好的", "。"])
    assert torch.allclose(sentiment.sum(-1), torch.ones(3), atol=1e-5)
    assert torch.allclose(fine.sum(-1), torch.ones(3), atol=1e-5)
    scores = fast.score_texts(texts)  # an empty text is scored like "。", never fails
    assert scores[0].sentiment_score == pytest.approx((sentiment[0, 2] - sentiment[0, 0]).item(), abs=1e-4)


def test_fast_blends_english_sentiment_with_vader_and_leaves_chinese_alone(fast: NgramEmotionScorer) -> None:
    from nlp.steps.emotion.labels import FINE_EMOTIONS, NEGATIVE_EMOTIONS, POSITIVE_EMOTIONS
    from nlp.steps.emotion.ngram import follow_sentiment, shipped_fast_dir, vader_sentiment

    english, chinese = "I am not happy at all", "等了两个小时还没送到，气死我了"
    model_s, model_f = fast.model.probabilities([english, chinese])
    sentiment, fine = fast.probabilities([english, chinese], ["auto", "auto"])
    assert torch.allclose(sentiment[0], (model_s[0] + vader_sentiment([english])[0]) / 2, atol=1e-6)
    assert torch.equal(sentiment[1], model_s[1]) and torch.equal(fine[1], model_f[1])  # Chinese: the model's
    # English emotions lean with the blend: negative ones × P_blend(neg) / P_model(neg), positive ones alike,
    # neutral ones unchanged, renormalised
    polarity = [0 if e in NEGATIVE_EMOTIONS else 2 if e in POSITIVE_EMOTIONS else 1 for e in FINE_EMOTIONS]
    ratio = [(sentiment[0, k] / model_s[0, k]).item() if k != 1 else 1.0 for k in range(3)]
    expected = torch.tensor([model_f[0, j].item() * ratio[polarity[j]] for j in range(len(FINE_EMOTIONS))])
    assert torch.allclose(fine[0], expected / expected.sum(), atol=1e-5)
    negative = [j for j, e in enumerate(FINE_EMOTIONS) if e in NEGATIVE_EMOTIONS]
    positive = [j for j, e in enumerate(FINE_EMOTIONS) if e in POSITIVE_EMOTIONS]
    assert fine[0, negative].sum() > model_f[0, negative].sum() and fine[0, positive].sum() < model_f[0, positive].sum()
    unchanged = follow_sentiment(model_f[:1], model_s[:1], model_s[:1].clone())
    assert torch.allclose(unchanged, model_f[:1], atol=1e-6), "no change where the blend changed nothing"
    (score,) = fast.score_texts([english], ["en"])
    # documented: the 50/50 average of the model's and VADER's P(positive) − P(negative); VADER reads the negation
    # (−0.46), the n-gram model alone does not (+0.08 for the 2026-12-01 student), so the blend is negative
    model_score = (model_s[0, 2] - model_s[0, 0]).item()
    vader = vader_sentiment([english])[0]
    assert score.sentiment_score == pytest.approx((model_score + (vader[2] - vader[0]).item()) / 2, abs=1e-4)
    assert score.sentiment == "negative" and score.sentiment_score < min(model_score, 0) - 0.1
    assert fast.version.endswith("+en-vader-emotions")
    own = NgramEmotionScorer(shipped_fast_dir())  # fast:DIR scores with its own model only
    assert not own.english_vader and torch.equal(own.probabilities([english], ["en"])[0], model_s[:1])


def test_fast_is_fast(fast: NgramEmotionScorer) -> None:
    import time

    texts = [f"第{i}单，骑手怎么还没到？我都等了一个小时了" for i in range(3000)]
    started = time.perf_counter()
    fast.score_texts(texts)
    assert len(texts) / (time.perf_counter() - started) > 500  # ≥ 1,500/s measured idle; CI machines are shared


def test_shipped_models_are_safetensors_and_json_within_40_mb() -> None:
    files = [p for d in (FAST, V2) for p in d.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} <= {".safetensors", ".json", ".md"}
    assert sum(p.stat().st_size for p in files) <= 40 * 1024 * 1024
    for directory in (FAST, V2, V2 / "ngram"):
        assert (directory / "config.json").exists()
    assert "Training data" in (FAST / "README.md").read_text(encoding="utf-8")
    assert "Training data" in (V2 / "README.md").read_text(encoding="utf-8")


class _StubEncoder:
    """Deterministic unit vectors instead of the 470 MB e5 model."""

    def encode(self, texts, kind="query", max_length=64, batch_size=64):
        rng = np.random.default_rng(len(texts))
        x = rng.normal(size=(len(texts), 384)).astype(np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_encoder_model_averages_head_and_ngram_into_distributions() -> None:
    model = EncoderEmotionModel(V2, encoder=_StubEncoder())
    texts = ["太慢了", "谢谢", "订单号是123"]
    sentiment, fine = model.probabilities(texts)
    assert sentiment.shape == (3, 3) and fine.shape == (3, len(FINE_EMOTIONS))
    assert torch.allclose(sentiment.sum(-1), torch.ones(3), atol=1e-5)
    vectors = _StubEncoder().encode(texts)
    again, _ = model.probabilities(texts, vectors=vectors)
    assert torch.allclose(sentiment, again)


class _TextEncoder:
    """A unit vector per text (seeded by the text), so a text's vector does not depend on its batch."""

    def encode(self, texts, kind="query", max_length=64, batch_size=64):
        rows = [np.random.default_rng(int(hashlib.sha1(f"{kind}:{t}".encode()).hexdigest()[:8], 16)).normal(size=384)
                for t in texts]
        x = np.asarray(rows, dtype=np.float32).reshape(len(texts), 384)
        return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_pipeline_embeds_each_utterance_once_for_stages_issue_types_and_emotion() -> None:
    encoded: list[str] = []

    def counting(texts: list[str], kind: str) -> np.ndarray:
        encoded.extend(f"{kind}:{t}" for t in texts)
        return _TextEncoder().encode(texts, kind)

    turns = [{"speaker": "customer", "text": "房间太吵了，我要换房间"},
             {"speaker": "agent", "text": "好的，马上为您处理"},
             {"speaker": "customer", "text": "The air conditioning is broken. Thanks for nothing."}]
    transcripts = [Transcript(id=f"t{i}", channel="chat", turns=turns) for i in range(3)]
    set_shared_vectors(TextVectors(counting))
    try:
        pipeline = Pipeline(PipelineConfig(journey_classifier="encoder", emotion_scorer="encoder"))
        docs = pipeline.analyze(transcripts)
    finally:
        set_shared_vectors(None)
    assert pipeline.emotion_scorer.model.shared and pipeline.emotion_scorer.model._encoder is None, \
        "no second encoder"
    assert max(Counter(encoded).values()) == 1, "no text is embedded twice"
    utterances = [u for d in docs for u in d.utterances]
    assert {f"query:{u.text}" for u in utterances} <= set(encoded), "stage heads and emotion read the same vectors"
    scored = [u for u in utterances if u.sentiment is not None]
    assert scored and all(u.stage for u in utterances)
    separate = EncoderEmotionScorer(encoder=_TextEncoder()).score(scored)  # its own encoder, its own pass
    assert [(s.sentiment, s.emotion, s.emotion_coarse) for s in separate] == \
        [(u.sentiment, u.emotion, u.emotion_coarse) for u in scored]
    np.testing.assert_allclose([s.sentiment_score for s in separate], [u.sentiment_score for u in scored], atol=1e-6)
    np.testing.assert_allclose([s.emotion_confidence for s in separate], [u.emotion_confidence for u in scored],
                               atol=1e-6)


def test_loader_specs() -> None:
    assert load_emotion_scorer("fast").name == "fast"
    assert load_emotion_scorer(f"fast:{FAST}").version.startswith("custom:")
    scorer = load_emotion_scorer("encoder")  # the encoder itself loads on first use only
    assert scorer.name == "encoder" and scorer.model._encoder is None
    with pytest.raises(ValueError, match="available: fast"):
        load_emotion_scorer("nonsense")
    with pytest.raises(FileNotFoundError):
        load_emotion_scorer("fast:/nonexistent/model")
    with pytest.raises(ValueError, match="format"):
        NgramModel(V2)  # a v2 directory is not an n-gram one


def test_label_names_map_to_allowed_sets() -> None:
    assert allowed_sets("Positive") == (("positive",), None)
    assert allowed_sets("anger") == (("negative",), ("anger",))
    assert allowed_sets("sadness") == (("negative",), ("disappointment",))
    assert allowed_sets("confusion") == (None, ("confusion",))
    assert allowed_sets("好评") is None


def test_bad_label_files_name_their_lines(tmp_path: Path) -> None:
    with pytest.raises(LabelFileError) as error:
        read_label_file(FIXTURES / "bad_labels.csv")
    assert "bad_labels.csv:3: empty text" in str(error.value)
    assert "bad_labels.csv:4: label '垃圾'" in str(error.value)
    with pytest.raises(LabelFileError, match=r"bad_map.yaml:2: '差评' maps to 'terrible'"):
        read_label_map(FIXTURES / "bad_map.yaml")
    missing = tmp_path / "x.csv"
    missing.write_text("words,label\n好,positive\n", encoding="utf-8")
    with pytest.raises(LabelFileError, match=r"x.csv:1: column\(s\) text missing"):
        read_label_file(missing)
    rows = read_label_file(FIXTURES / "labels.csv", label_map=read_label_map(FIXTURES / "map.yaml"))
    assert len(rows.texts) == 45 and set(rows.classes) == {"好评", "差评", "中性"}


def test_train_emotion_cli_tunes_and_writes_a_fast_model(tmp_path: Path) -> None:
    out = tmp_path / "my-model"
    done = subprocess.run(
        [sys.executable, "-m", "nlp.cli", "train-emotion", str(FIXTURES / "labels.csv"), "--label-map",
         str(FIXTURES / "map.yaml"), "--output", str(out), "--folds", "3", "--epochs", "4"],
        capture_output=True, text=True, timeout=600, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "3-fold macro-F1, shipped model" in done.stdout and "tuned model" in done.stdout
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["kfold"]["rows"] == 45 and set(config["user_labels"]) == {"好评", "差评", "中性"}
    scorer = load_emotion_scorer(f"fast:{out}")
    first, last = scorer.score_texts(["饭菜都洒了，根本没法吃", "请问发票怎么开"])
    assert (first.sentiment, last.sentiment) == ("negative", "neutral")
    bad = subprocess.run([sys.executable, "-m", "nlp.cli", "train-emotion", str(FIXTURES / "bad_labels.csv"),
                          "--output", str(tmp_path / "x")], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "COLUMNS": "200"})
    assert bad.returncode != 0 and "bad_labels.csv:3" in bad.stderr
