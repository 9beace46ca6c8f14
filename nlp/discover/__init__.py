"""``journeylens discover``: what are customers contacting us about? A draft taxonomy from the archive itself.

1. **Sample**: customer utterances of the transcripts (reservoir sampling, so an archive of any size is read
   once in bounded memory; the number sampled and seen is reported). Utterances without content ("好的",
   "thanks": shorter than ``min_chars``, or nearly a generic utterance) are left out.
2. **Embed** them with the e5 encoder (``query: ``, one pass, ``TextVectors``), each mixed with the vector of the
   customer's previous utterance in the same contact (``context_weight``): "yes, for 3 people" or "人均消费多少"
   says what is asked but not about what; the turn before usually does.
3. **Cluster** with scikit-learn's agglomerative clustering (Ward linkage on centred unit vectors); the number
   of topics (``max_topics // 2`` … ``max_topics``) is the one with the best silhouette; clusters under ``min_share`` of
   the sample are reported as noise and do not become stages.
4. **Name** each cluster by class-based TF-IDF (c-TF-IDF, as BERTopic does) over jieba words for Chinese and
   lower-cased words for English, stop words removed; a term becomes a keyword of the cluster where it is most
   distinctive only. 5 **representative** utterances (nearest the centroid, distinct, PII-redacted) become the
   stage's examples.
5. **Write** a taxonomy YAML (stages with id, name, description, keywords, examples) that ``load_taxonomy`` and
   ``analyze --taxonomy`` accept unedited; with an existing taxonomy, each cluster's **coverage** by it (the
   encoder classifier's per-utterance best stage and how many utterances it calls ``other``), and the clusters it
   covers badly are the **emerging topics**.
6. **Emotion and pain** per topic: the NEV (``nlp.analytics.nev``, the one definition) of its utterances'
   emotions, and, from a scored store, the mean pain (``nlp.analytics.contacts``) of the contacts they come from.
   Transcript files are scored by the configured emotion scorer (``emotions_of``); pain needs a store, because
   it counts repeat contacts and broken promises across contacts.

``sample_store`` draws the sample from a scored DuckDB store instead (``discover --db``, ``GET /v1/discover``).
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nlp.schema.taxonomy import Stage, Taxonomy
from nlp.steps.stages.embedding import TextVectors, shared_vectors

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_EN_WORD = re.compile(r"[a-z][a-z']+")
_ZH_STOP = frozenset(
    "的 了 是 我 你 您 他 她 它 们 我们 你们 吗 呢 吧 啊 呀 哦 嗯 恩 好 好的 在 有 和 与 就 都 也 还 要 想 能 可以 请 "
    "一下 一个 这个 那个 这 那 什么 怎么 为什么 哪 哪些 哪里 多少 几 没有 不 没 很 太 给 把 被 让 会 去 来 到 "
    "帮 帮我 谢谢 麻烦 请问 那么 然后 就是 还是 或者 如果 因为 所以 但是 已经 现在 时候 知道 需要 问 告诉 上 下 "
    "里 吃 点 些 个 么 呐 嘛 啦 哈 喂 行 对 是否 为 着 过 又 再 才 从 对于 关于 以及 及 或 并 而".split())
_EN_STOP = frozenset(
    "a an the to of and or in on at for is are was were be been am i you he she it we they me my your our us "
    "this that these those there here with as by from do does did so if but not no yes ok okay please would "
    "could can will shall should may might have has had just also too very what which who how when where why "
    "want need like get got thank thanks hi hello any some about there's i'm it's i'd i'll don't can't im "
    "one all out up down then than them their its into over more most much many well sure great good help "
    "know tell let looking look find go going".split())


@dataclass
class Topic:
    id: str
    name: str
    terms: list[str]
    size: int
    share: float
    examples: list[str]
    coverage: dict | None = None  # with an existing taxonomy: best stage, its share, mean fit, share ``other``
    nev: float | None = None  # NEV of its utterances' emotions (None: none scored)
    pain: float | None = None  # mean pain 0..100 of the contacts its utterances come from (store only)
    contacts: int | None = None  # how many contacts its utterances come from (when known)


@dataclass
class Discovery:
    topics: list[Topic]
    sampled: int
    seen: int
    noise: int
    language: str
    labels: np.ndarray = field(repr=False)  # per sampled utterance: topic index, -1 for noise
    texts: list[str] = field(repr=False)
    emerging: list[Topic] = field(default_factory=list)

    def report(self) -> dict:
        """The topics with sizes, terms, examples, NEV, pain and coverage (``--report``; the API's answer): what
        the taxonomy file cannot hold, since ``load_taxonomy`` rejects keys a stage does not have."""
        emerging = {t.id for t in self.emerging}
        return {"language": self.language, "sampled": self.sampled, "seen": self.seen, "noise": self.noise,
                "topics": [{**vars(t), "emerging": t.id in emerging} for t in self.topics],
                "emerging": [t.id for t in self.emerging]}

    def taxonomy(self, name: str = "discovered") -> Taxonomy:
        """The topics as a taxonomy (stages only, in size order), valid as written."""
        stages = [Stage(id=t.id, name=t.name, phase="in_sale", keywords=t.terms,
                        description=("Discovered: " if self.language == "en" else "自动发现：") + ", ".join(t.terms),
                        examples=t.examples) for t in self.topics]
        return Taxonomy(name=name, language=self.language, description=(
            f"drafted by journeylens discover from {self.sampled:,} customer utterances"), stages=stages)

    def to_yaml(self, name: str = "discovered") -> str:
        import yaml

        emerging = {t.id for t in self.emerging}
        data = self.taxonomy(name).model_dump(mode="json", exclude_defaults=True,
                                             exclude={"stages": {"__all__": {"parent"}}})
        header = (f"# Drafted by `journeylens discover` from {self.sampled:,} sampled customer utterances "
                  f"({self.seen:,} seen). Edit names, merge or split stages, then use it with --taxonomy.\n"
                  "# topic report (comments: a stage takes no other keys):\n"
                  + "".join(f"#   {_report_line(t, t.id in emerging)}\n" for t in self.topics))
        return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


def _report_line(topic: Topic, emerging: bool) -> str:
    """One topic's figures for the YAML's comment block (only those that are known)."""
    parts = [topic.id, f"{topic.size} utterances ({topic.share:.1%})"]
    parts += [f"NEV {topic.nev:+.1f}"] if topic.nev is not None else []
    parts += [f"pain {topic.pain:.1f}"] if topic.pain is not None else []
    parts += [f"{topic.contacts} contacts"] if topic.contacts is not None else []
    return "  ".join(parts) + ("  emerging" if emerging else "")


# -- 1. sampling ------------------------------------------------------------------------------------------
def customer_texts(transcripts: Iterable, max_utterances: int = 3000, min_chars: int = 4,
                   seed: int = 0) -> tuple[list[str], list[str | None], int]:
    """(a uniform sample of at most ``max_utterances`` distinct customer turns, each one's context: the previous
    customer turn of its transcript or None, how many were seen)."""
    rng = random.Random(seed)
    sample: list[tuple[str, str | None]] = []
    seen_texts: set[str] = set()
    seen = 0
    for transcript in transcripts:
        previous = None
        for turn in transcript.turns:
            if turn.speaker != "customer":
                continue
            text, context = turn.text.strip(), previous
            previous = text or previous
            if len(text) < min_chars or text in seen_texts:
                continue
            seen_texts.add(text)
            seen += 1
            if len(sample) < max_utterances:
                sample.append((text, context))
            else:
                j = rng.randrange(seen)
                if j < max_utterances:
                    sample[j] = (text, context)
            if len(seen_texts) > 20 * max_utterances:  # memory bound: forget old texts (rare duplicates pass)
                seen_texts = {t for t, _ in sample}
    return [t for t, _ in sample], [c for _, c in sample], seen


def detect_language(texts: Sequence[str]) -> str:
    chinese = sum(bool(_CJK.search(t)) for t in texts)
    return "zh" if chinese >= len(texts) / 2 else "en"


# -- 3. clustering ----------------------------------------------------------------------------------------
def cluster(vectors: np.ndarray, max_topics: int = 12, min_share: float = 0.01,
            progress: Callable[[str], None] | None = None, min_topics: int | None = None) -> np.ndarray:
    """Topic index per vector (-1: a cluster under ``min_share``). The vectors are centred first (what every
    utterance shares, e5's common direction, says nothing about topics); the number of clusters has the best
    silhouette (cosine) among ``min_topics`` (default ``max_topics // 2``) … ``max_topics`` (on customer turns
    silhouettes are flat and favour 2–3 clusters that follow the dialogue act, "what is its rating?" vs "its phone
    number?", rather than the topic)."""
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.metrics import silhouette_score

    n = len(vectors)
    if n < 4:
        return np.zeros(n, dtype=int)
    vectors = vectors - vectors.mean(axis=0)
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    model = AgglomerativeClustering(n_clusters=2, linkage="ward", compute_full_tree=True)
    model.fit(vectors)
    children = model.children_
    best_labels, best_score = None, -2.0
    sample = np.random.default_rng(0).choice(n, size=min(n, 3000), replace=False)
    low = max(2, max_topics // 2 if min_topics is None else min(min_topics, max_topics))
    for k in range(min(low, n - 1), min(max_topics, n - 1) + 1):
        labels = _cut(children, n, k)
        score = silhouette_score(vectors[sample], labels[sample], metric="cosine")
        if progress:
            progress(f"{k} topics: silhouette {score:.3f}")
        if score > best_score:
            best_labels, best_score = labels, score
    assert best_labels is not None
    counts = Counter(best_labels.tolist())
    keep = [c for c, m in counts.most_common() if m >= max(min_share * n, 2)]
    remap = {c: i for i, c in enumerate(keep)}
    return np.asarray([remap.get(c, -1) for c in best_labels.tolist()])


def _cut(children: np.ndarray, n: int, k: int) -> np.ndarray:
    """Labels of ``n`` leaves after undoing the last ``k - 1`` merges of a full agglomerative tree."""
    parent = np.arange(2 * n - 1)
    for i, (a, b) in enumerate(children[: n - k]):
        parent[a] = parent[b] = n + i
    roots = np.empty(n, dtype=int)
    for leaf in range(n):
        node = leaf
        while parent[node] != node:
            node = parent[node]
        roots[leaf] = node
    _, labels = np.unique(roots, return_inverse=True)
    return labels


# -- 4. naming --------------------------------------------------------------------------------------------
def tokens(text: str, language: str) -> list[str]:
    if language == "zh":
        import jieba

        words = (w.strip().lower() for w in jieba.lcut(text))
        return [w for w in words if len(w) >= 2 and w not in _ZH_STOP and (_CJK.search(w) or w.isalpha())]
    return [w for w in _EN_WORD.findall(text.lower()) if w not in _EN_STOP and len(w) > 2]


def ctfidf_terms(texts: Sequence[str], labels: np.ndarray, n_topics: int, language: str,
                 per_topic: int = 6) -> list[list[str]]:
    """The ``per_topic`` most distinctive terms per topic (class-based TF-IDF); each term goes to one topic."""
    counts = [Counter() for _ in range(n_topics)]
    for text, label in zip(texts, labels.tolist(), strict=True):
        if label >= 0:
            counts[label].update(set(tokens(text, language)))
    total = Counter()
    for c in counts:
        total.update(c)
    average = sum(sum(c.values()) for c in counts) / max(n_topics, 1)
    scores = [{t: (m / max(sum(c.values()), 1)) * math.log(1 + average / total[t]) for t, m in c.items() if m >= 2}
              for c in counts]
    owner = {}
    for t in total:
        best = max(range(n_topics), key=lambda i: scores[i].get(t, 0.0))
        if scores[best].get(t, 0.0) > 0:
            owner[t] = best
    out = []
    for i, s in enumerate(scores):
        ranked = sorted((t for t in s if owner.get(t) == i), key=lambda t: -s[t])
        out.append(ranked[:per_topic])
    return out


def representatives(texts: Sequence[str], vectors: np.ndarray, members: np.ndarray, n: int = 5) -> list[str]:
    """``n`` distinct member texts nearest the members' centroid."""
    centroid = vectors[members].mean(axis=0)
    order = members[np.argsort(-(vectors[members] @ centroid))]
    out: list[str] = []
    for i in order:
        if texts[i] not in out:
            out.append(texts[i])
        if len(out) == n:
            break
    return out


# -- the whole command --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Said:
    """A sampled customer utterance as ``nlp.analytics.nev.nev`` reads it."""

    emotion: str | None
    speaker: str = "customer"


def discover(texts: Sequence[str], seen: int | None = None, language: str | None = None, max_topics: int = 12,
             taxonomy: Taxonomy | None = None, vectors: TextVectors | None = None,
             progress: Callable[[str], None] | None = None, min_share: float = 0.01,
             settings=None, emotions: Sequence[str | None] | None = None,
             contact_ids: Sequence[str] | None = None, pain_of: Mapping[str, float] | None = None,
             weights: Mapping[str, float] | None = None, contexts: Sequence[str | None] | None = None,
             context_weight: float = 0.3, min_topics: int | None = None) -> Discovery:
    """Cluster and name ``texts`` (customer utterances); with ``taxonomy``, how well it covers each cluster.

    ``contexts`` (per text: the customer's previous utterance in its contact, or None) are mixed into each text's
    vector with ``context_weight`` for clustering (docs/stages.md: it lifts NMI with the gold domains on
    MultiWOZ and CrossWOZ); names, examples and coverage read the texts alone.
    ``emotions`` (per text) give each topic its NEV with the emotion ``weights`` (default: the analytics
    settings'); ``contact_ids`` (per text) and ``pain_of`` (contact id → pain) its contacts and mean pain. Texts
    are PII-redacted first, so no vector, term or example holds what the redactor removes."""
    from nlp.analytics.nev import nev
    from nlp.analytics.settings import AnalyticsSettings
    from nlp.steps.redact import Redactor

    vectors = vectors or shared_vectors()
    redact = Redactor()
    texts = [redact(t) for t in texts]
    language = language or detect_language(texts)
    if weights is None:
        weights = AnalyticsSettings().emotion_weights
    chunks = []
    for start in range(0, len(texts), 256):  # in chunks, to report progress
        chunks.append(vectors(texts[start:start + 256], "query"))
        if progress:
            progress(f"embedded {min(start + 256, len(texts)):,} / {len(texts):,} utterances")
    x = np.concatenate(chunks) if chunks else np.zeros((0, 1), dtype=np.float32)
    if contexts is not None and context_weight > 0:
        x = _with_context(x, [redact(c) if c else None for c in contexts], vectors, context_weight)
    labels = cluster(x, max_topics, min_share, progress, min_topics)
    n_topics = int(labels.max()) + 1 if len(labels) and labels.max() >= 0 else 0
    terms = ctfidf_terms(texts, labels, n_topics, language)
    topics = []
    for i in range(n_topics):
        members = np.flatnonzero(labels == i)
        examples = representatives(texts, x, members)
        words = terms[i] or [examples[0][:12]]
        name = ("·" if language == "zh" else " / ").join(words[:2])
        topic = Topic(id=f"topic_{i + 1:02d}", name=name, terms=words, size=len(members),
                      share=round(len(members) / len(texts), 4), examples=examples)
        if emotions is not None:
            topic.nev = nev([_Said(emotions[j]) for j in members.tolist()], weights)
        if contact_ids is not None:
            ids = {contact_ids[j] for j in members.tolist()}
            topic.contacts = len(ids)
            pains = [float(pain_of[c]) for c in sorted(ids) if pain_of is not None and c in pain_of]
            topic.pain = round(sum(pains) / len(pains), 1) if pains else None
        topics.append(topic)
    result = Discovery(topics, len(texts), seen if seen is not None else len(texts), int((labels < 0).sum()),
                       language, labels, texts)
    if taxonomy is not None:
        result.emerging = coverage(result, taxonomy, vectors, settings)
    return result


def _with_context(x: np.ndarray, contexts: Sequence[str | None], vectors: TextVectors, weight: float) -> np.ndarray:
    """Each row of ``x`` mixed with its context's vector, ``(1 - weight) * x + weight * context``, unit length;
    rows without a context stay as they are."""
    has = [i for i, c in enumerate(contexts) if c]
    if not has:
        return x
    mixed = x.copy()
    mixed[has] = (1.0 - weight) * x[has] + weight * vectors([contexts[i] for i in has], "query")
    return mixed / np.maximum(np.linalg.norm(mixed, axis=1, keepdims=True), 1e-9)


def coverage(result: Discovery, taxonomy: Taxonomy, vectors: TextVectors, settings=None,
             max_other: float = 0.5) -> list[Topic]:
    """Per topic, the existing taxonomy's best stage for its utterances (``EncoderJourneyClassifier`` evidence,
    one utterance at a time) and the share it would call ``other``; the topics where that share is at least
    ``max_other`` or no stage takes half of the utterances are returned as emerging."""
    from nlp.steps.stages.semantic import EncoderJourneyClassifier

    classifier = EncoderJourneyClassifier(taxonomy, settings, vectors=vectors)
    emissions = classifier.emissions(result.texts, ["customer"] * len(result.texts))
    states = classifier.states
    chosen = emissions.argmax(axis=1)
    emerging = []
    for i, topic in enumerate(result.topics):
        members = result.labels == i
        counts = Counter(states[j] for j in chosen[members].tolist())
        stage, m = max(((s, c) for s, c in counts.items() if s != "other"), key=lambda p: p[1], default=("", 0))
        other = counts.get("other", 0) / max(members.sum(), 1)
        topic.coverage = {"best_stage": stage or None, "best_stage_share": round(m / max(members.sum(), 1), 4),
                          "other_share": round(other, 4)}
        if other >= max_other or m / max(members.sum(), 1) < 0.5:
            emerging.append(topic)
    return emerging


def emotions_of(texts: Sequence[str], scorer: str = "fast") -> list[str | None]:
    """Each text's emotion by the emotion scorer ``scorer`` (the configuration's ``emotion_scorer``), each text
    scored as one customer utterance, as ``journeylens score-text`` does."""
    from nlp.ingest.score_text import score_texts
    from nlp.steps.registry import load_emotion_scorer
    from nlp.steps.sentences import Segmenter
    from nlp.steps.sentences import detect_language as text_language

    texts = list(texts)
    scores = score_texts(load_emotion_scorer(scorer), texts, [text_language(t) for t in texts], Segmenter())
    return [s.emotion for s in scores]


def discover_paths(paths: Sequence[Path], reader_options=None, max_utterances: int = 3000,
                   emotion_scorer: str | None = "fast", **kwargs) -> Discovery:
    """``discover`` over the customer turns of transcript files or folders (any supported format); each topic's
    NEV from ``emotion_scorer``'s emotions (None: no NEV)."""
    from nlp.readers import iter_records

    transcripts = (r.transcript for r in iter_records(paths, reader_options) if r.transcript is not None)
    texts, contexts, seen = customer_texts(transcripts, max_utterances)
    if len(texts) < 4:
        raise ValueError(f"only {len(texts)} customer utterances found: discover needs more")
    emotions = emotions_of(texts, emotion_scorer) if emotion_scorer else None
    return discover(texts, seen=seen, emotions=emotions, contexts=contexts, **kwargs)


_STORE_SAMPLE = """
WITH customer AS (  -- customer utterances of the selected contacts, each with the one before it (its context)
    SELECT trim(u.text) AS text, u.emotion, u.transcript_id, u.utterance_index,
           lag(trim(u.text)) OVER (PARTITION BY u.transcript_id ORDER BY u.utterance_index) AS context
    FROM utterances u SEMI JOIN (SELECT transcript_id FROM transcripts t WHERE {where}) USING (transcript_id)
    WHERE u.speaker = 'customer'
), said AS (  -- one row per distinct text: its first utterance's emotion, contact and context
    SELECT DISTINCT ON (text) text, emotion, transcript_id, context FROM customer
    WHERE length(text) >= $min_chars
    ORDER BY text, transcript_id, utterance_index
)
SELECT text, emotion, transcript_id, context, count(*) OVER () AS seen FROM said
ORDER BY hash(text || $seed), text LIMIT $n
"""


@dataclass
class StoreSample:
    """Distinct customer utterances drawn from a scored store, with their stored emotion and contact."""

    texts: list[str]
    emotions: list[str | None]
    contact_ids: list[str]
    contexts: list[str | None]  # the customer utterance before each in its contact
    seen: int


def sample_store(con, max_utterances: int = 3000, filters=None, timezone: str = "Asia/Shanghai",
                 language: str | None = None, min_chars: int = 4, seed: int = 0) -> StoreSample:
    """A sample of at most ``max_utterances`` distinct customer utterances of the contacts matching ``filters``
    (``nlp.analytics.filters.Filters``) and ``language``: the same rows for the same store and arguments (the
    order is a hash of the text), each with the stored emotion of its first utterance, that contact's id and the
    customer utterance before it there (its context)."""
    from nlp.analytics.filters import Filters

    where, params = (filters or Filters()).where(timezone)
    if language is not None:
        where, params = f"{where} AND t.language = $language", {**params, "language": language}
    rows = con.execute(_STORE_SAMPLE.format(where=where),
                       {**params, "min_chars": min_chars, "seed": str(seed), "n": max_utterances}).fetchall()
    return StoreSample([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows],
                       rows[0][4] if rows else 0)


def discover_store(con, settings=None, max_utterances: int = 3000, filters=None, language: str | None = None,
                   pain_of: Mapping[str, float] | None = None, **kwargs) -> Discovery:
    """``discover`` over a scored store's customer utterances with their stored emotions, and the contacts' pain
    (``pain_of``, contact id → pain; default: ``contact_facts`` of the same filters)."""
    from nlp.analytics.contacts import contact_facts
    from nlp.analytics.settings import AnalyticsSettings

    settings = settings or AnalyticsSettings()
    sample = sample_store(con, max_utterances, filters, settings.timezone, language)
    if len(sample.texts) < 4:
        raise ValueError(f"only {len(sample.texts)} customer utterances found: discover needs more")
    if pain_of is None:
        facts = contact_facts(con, settings, filters)
        pain_of = dict(zip(facts["transcript_id"], facts["pain"], strict=True))
    return discover(sample.texts, seen=sample.seen, language=language, emotions=sample.emotions,
                    contact_ids=sample.contact_ids, pain_of=pain_of, weights=settings.emotion_weights,
                    contexts=sample.contexts, **kwargs)
