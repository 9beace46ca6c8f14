"""Training of the v2 (``encoder``) and fast (``fast``) emotion scorers and of users' own models (``train-emotion``).

Every example says which sentiments and which fine emotions its gold label allows (``TrainingExample``); the loss
is −log of the probability mass inside the allowed set, per group (sentiment: 3 classes; emotion: the 9 fine
ones), so a review labelled only positive/negative constrains only the sentiment group, and a coarse label
("sad") allows each of its fine emotions. Distillation adds a cross-entropy to a teacher's soft probabilities.
Heads are linear (or a one-hidden-layer MLP) over dense sentence vectors or over hashed n-gram features
(``nlp.steps.emotion.ngram.NgramFeaturizer``), trained with Adam, a linearly decaying learning rate and fixed
seeds. Temperatures (one per group) are fitted by NLL on even rows of a held-out slice of the *training* files
and their ECE reported on the odd rows.

The public-data training run is ``scripts/train_emotion.py v2|fast``; ``journeylens train-emotion`` calls
``train_user_model`` (``nlp/training/emotion_user.py``, with the label-file reading).
"""

from __future__ import annotations

import json
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from nlp.steps.emotion.labels import COARSE_EMOTIONS, FINE_EMOTIONS, FINE_TO_COARSE
from nlp.steps.emotion.ngram import (
    FORMAT as NGRAM_FORMAT,
)
from nlp.steps.emotion.ngram import (
    N_OUTPUTS,
    SENTIMENTS,
    NgramFeaturizer,
    NgramModel,
    coarse_probabilities,
    sharpen,
)

NEG_FINE = ("anger", "frustration", "anxiety", "disappointment")
POS_FINE = ("satisfaction", "gratitude")


@dataclass
class TrainingExample:
    text: str
    sentiment: tuple[str, ...] | None  # allowed sentiments; None: no sentiment target
    fine: tuple[str, ...] | None  # allowed fine emotions; None: no emotion target
    source: str
    emotion_weight: float = 1.0


def masks(examples: Sequence) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Allowed-set masks (n×3 sentiment, n×9 fine; all-zero rows: no target) and per-example emotion weights."""
    s = np.zeros((len(examples), 3), np.float32)
    f = np.zeros((len(examples), len(FINE_EMOTIONS)), np.float32)
    w = np.zeros(len(examples), np.float32)
    for i, e in enumerate(examples):
        for label in e.sentiment or ():
            s[i, SENTIMENTS.index(label)] = 1
        for label in e.fine or ():
            f[i, FINE_EMOTIONS.index(label)] = 1
        w[i] = e.emotion_weight
    return s, f, w


def example_weights(examples: Sequence, cap: int = 8000) -> np.ndarray:
    """Per example: 1/√(frequency of its label within its source), mean 1 per source, times min(1, cap / rows of
    the source), so rare classes count more and no single large file dominates."""
    counts = Counter((e.source, e.sentiment, e.fine) for e in examples)
    by_source = Counter(e.source for e in examples)
    raw = np.array([1 / math.sqrt(counts[(e.source, e.sentiment, e.fine)] / by_source[e.source])
                    for e in examples], dtype=np.float64)
    sources = np.array([e.source for e in examples])
    for source, n in by_source.items():
        idx = sources == source
        raw[idx] = raw[idx] / raw[idx].mean() * min(1.0, cap / n)
    return raw.astype(np.float32)


def set_loss(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per row −log Σ_{allowed} softmax(logits); 0 for rows without a target."""
    has = mask.sum(-1) > 0
    log_p = torch.log_softmax(logits, -1)
    allowed = torch.logsumexp(log_p.masked_fill(mask == 0, -1e4), -1)
    return torch.where(has, -allowed, torch.zeros_like(allowed))


def soft_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy to soft targets per row (rows of zeros: no target)."""
    return -(target * torch.log_softmax(logits, -1)).sum(-1)


class Head(torch.nn.Module):
    """Linear (``hidden=0``) or one-hidden-layer GELU head to 12 logits; accepts sparse COO batches when linear."""

    def __init__(self, dim: int, hidden: int = 0) -> None:
        super().__init__()
        self.hidden = hidden
        if hidden:
            self.inner = torch.nn.Linear(dim, hidden)
        self.out = torch.nn.Linear(hidden or dim, N_OUTPUTS)
        torch.nn.init.zeros_(self.out.weight)
        torch.nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.is_sparse:
            return torch.sparse.mm(x, self.out.weight.t()) + self.out.bias
        if self.hidden:
            x = torch.nn.functional.gelu(self.inner(x))
        return self.out(x)


def resolve_device(device: str = "auto") -> torch.device:
    """``auto``: CUDA when available, else the CPU."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


def _rows(x, rows: list[int]) -> torch.Tensor:
    from scipy import sparse

    if sparse.issparse(x):
        part = x[rows].tocoo()
        index = torch.from_numpy(np.vstack([part.row, part.col]).astype(np.int64))
        return torch.sparse_coo_tensor(index, torch.from_numpy(part.data.astype(np.float32)), part.shape,
                                       check_invariants=False)
    return torch.from_numpy(np.ascontiguousarray(x[rows], dtype=np.float32))


def fit_head(x, examples: Sequence, *, weights: np.ndarray | None = None, soft: np.ndarray | None = None,
             soft_weight: np.ndarray | None = None, hidden: int = 0, epochs: int = 4, lr: float = 0.01,
             batch_size: int = 256, seed: int = 13, init: dict[str, torch.Tensor] | None = None,
             anchor: float = 0.0, log: Callable[[str], None] | None = None, device: str = "cpu") -> Head:
    """A head trained on features ``x`` (dense n×d array or CSR) for ``examples`` with the allowed-set loss, plus
    ``soft_weight`` × cross-entropy to ``soft`` (n×12: 3 sentiment then 9 fine probabilities) where given.
    ``init``: start from these tensors; ``anchor`` > 0 adds anchor × ‖W − W_init‖² (for few-row fine-tuning).
    ``device``: where the batches are trained (``auto``: CUDA when available); the head is returned on the CPU."""
    from scipy import sparse

    torch.manual_seed(seed)
    rng = random.Random(seed)
    head = Head(x.shape[1], 0 if sparse.issparse(x) else hidden)
    if init is not None:
        head.load_state_dict(init)
    dev = resolve_device(device)
    head.to(dev)
    start = {k: v.detach().clone() for k, v in head.state_dict().items()} if anchor else None
    s_mask, f_mask, f_weight = (torch.from_numpy(a).to(dev) for a in masks(examples))
    weight = torch.from_numpy(weights if weights is not None else np.ones(len(examples), np.float32)).to(dev)
    soft_t = torch.from_numpy(soft.astype(np.float32)).to(dev) if soft is not None else None
    soft_w = torch.from_numpy(soft_weight.astype(np.float32)).to(dev) if soft_weight is not None else None
    optimizer = torch.optim.Adam(head.parameters(), lr=lr)
    n = x.shape[0]
    steps = max(1, math.ceil(n / batch_size)) * epochs
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda k: max(0.0, 1 - k / steps))
    order = list(range(n))
    for epoch in range(epochs):
        rng.shuffle(order)
        total = 0.0
        for begin in range(0, n, batch_size):
            rows = sorted(order[begin:begin + batch_size])
            logits = head(_rows(x, rows).to(dev))
            loss = weight[rows] * (set_loss(logits[:, :3], s_mask[rows])
                                   + f_weight[rows] * set_loss(logits[:, 3:], f_mask[rows]))
            if soft_t is not None:
                loss = loss + soft_w[rows] * (soft_loss(logits[:, :3], soft_t[rows, :3])
                                              + soft_loss(logits[:, 3:], soft_t[rows, 3:]))
            loss = loss.mean()
            if start is not None:
                loss = loss + anchor * ((head.out.weight - start["out.weight"]) ** 2).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(rows)
        if log:
            log(f"    epoch {epoch + 1}/{epochs}: loss {total / max(n, 1):.4f}")
    head.eval()
    return head.cpu()


def head_logits(head: Head, x, batch_size: int = 4096) -> torch.Tensor:
    out = []
    with torch.inference_mode():
        for begin in range(0, x.shape[0], batch_size):
            out.append(head(_rows(x, list(range(begin, min(begin + batch_size, x.shape[0]))))))
    return torch.cat(out) if out else torch.zeros(0, N_OUTPUTS)


def split_probabilities(logits: torch.Tensor, t_sentiment: float = 1.0, t_emotion: float = 1.0
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.softmax(logits[:, :3] / t_sentiment, -1), torch.softmax(logits[:, 3:] / t_emotion, -1)


# -- calibration ------------------------------------------------------------------------------------------------
def ece(confidence: torch.Tensor, correct: torch.Tensor, bins: int = 15) -> float:
    """Expected calibration error, 15 equal-width bins."""
    total, n = 0.0, len(confidence)
    edges = torch.linspace(0, 1, bins + 1)
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (confidence > lo) & (confidence <= hi)
        if inside.any():
            total += inside.sum().item() / n * abs(confidence[inside].mean().item()
                                                   - correct[inside].float().mean().item())
    return total


def calibration_rows(examples: Sequence) -> dict[str, tuple[list[int], torch.Tensor]]:
    """Rows with one gold sentiment, and rows whose fine emotions fall in one coarse class, with the gold index."""
    s_rows, s_gold, c_rows, c_gold = [], [], [], []
    for i, e in enumerate(examples):
        if e.sentiment and len(e.sentiment) == 1:
            s_rows.append(i)
            s_gold.append(SENTIMENTS.index(e.sentiment[0]))
        if e.fine and len({FINE_TO_COARSE[f] for f in e.fine}) == 1:
            c_rows.append(i)
            c_gold.append(COARSE_EMOTIONS.index(FINE_TO_COARSE[e.fine[0]]))
    return {"sentiment": (s_rows, torch.tensor(s_gold, dtype=torch.long)),
            "emotion": (c_rows, torch.tensor(c_gold, dtype=torch.long))}


TEMPERATURES = [0.25 * 1.04 ** k for k in range(81)]  # 0.25 … 5.8


def fit_temperatures(sentiment: torch.Tensor, fine: torch.Tensor, examples: Sequence) -> dict:
    """One temperature per group, applied to log-probabilities, fitted by NLL on the even held-out rows (sentiment:
    3-way; emotion: coarse classes); accuracy and ECE before/after on the odd rows."""
    report = {}
    for group, probs in (("sentiment", sentiment), ("emotion", fine)):
        rows, gold = calibration_rows(examples)[group]
        if len(rows) < 4:
            report[group] = {"temperature": 1.0, "rows_fit": 0, "rows_test": 0}
            continue
        p = probs[rows]
        as_class = (lambda q: q) if group == "sentiment" else coarse_probabilities
        fit_rows, test_rows = slice(0, None, 2), slice(1, None, 2)

        def nll(t: float, p=p, gold=gold, as_class=as_class, fit_rows=fit_rows) -> float:
            q = as_class(sharpen(p[fit_rows], t)).clamp_min(1e-9).log()
            return torch.nn.functional.nll_loss(q, gold[fit_rows]).item()

        t = min(TEMPERATURES, key=nll)

        def measure(t: float, p=p, gold=gold, as_class=as_class, test_rows=test_rows) -> dict:
            q = as_class(sharpen(p[test_rows], t))
            confidence, predicted = q.max(-1)
            correct = predicted == gold[test_rows]
            return {"ece": round(ece(confidence, correct), 4), "accuracy": round(correct.float().mean().item(), 4)}

        report[group] = {"temperature": round(t, 4), "rows_fit": len(gold[fit_rows]),
                         "rows_test": len(gold[test_rows]), "before": measure(1.0), "after": measure(t)}
    return report


# -- saving -----------------------------------------------------------------------------------------------------
def save_ngram(directory: Path, featurizer: NgramFeaturizer, idf: np.ndarray, head: Head, temperatures: dict,
               version: str, extra: dict | None = None) -> None:
    """An n-gram model directory (``config.json`` + ``model.safetensors``, fp16 weights)."""
    from safetensors.numpy import save_file

    directory.mkdir(parents=True, exist_ok=True)
    weight = head.out.weight.detach().t().contiguous().numpy().astype(np.float16)  # n_features × 12
    save_file({"weight": weight, "bias": head.out.bias.detach().numpy().astype(np.float32),
               "idf": idf.astype(np.float16)}, str(directory / "model.safetensors"))
    config = {"format": NGRAM_FORMAT, "version": version, "features": featurizer.settings,
              "labels": {"sentiment": list(SENTIMENTS), "emotion": list(FINE_EMOTIONS)},
              "temperatures": {"sentiment": temperatures["sentiment"], "emotion": temperatures["emotion"]},
              **(extra or {})}
    (directory / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def load_ngram_head(model: NgramModel) -> dict[str, torch.Tensor]:
    """A saved n-gram model's weights as ``Head`` state (to fine-tune from)."""
    return {"out.weight": torch.from_numpy(model.weight.T.copy()), "out.bias": torch.from_numpy(model.bias.copy())}


# -- cached sentence vectors ------------------------------------------------------------------------------------
class EmbeddingCache:
    """e5 vectors of training texts on disk (``<cache root>/emb/<encoder>-query<max_length>[-int8]/shard-*.npz``,
    outside the repository), keyed by the SHA-1 of the text, so retraining heads does not re-run the encoder."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.index: dict[str, np.ndarray] = {}
        if self.directory.exists():
            for shard in sorted(self.directory.glob("shard-*.npz")):
                with np.load(shard) as data:
                    self.index.update(zip(data["keys"].tolist(), data["vectors"], strict=True))

    @classmethod
    def for_encoder(cls, encoder_directory: Path, max_length: int, int8: bool) -> EmbeddingCache:
        from nlp.resources import cache_root

        tag = f"{Path(encoder_directory).name}-query{max_length}{'-int8' if int8 else ''}"
        return cls(cache_root() / "emb" / tag)

    @staticmethod
    def key(text: str) -> str:
        import hashlib

        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def missing(self, texts: Sequence[str]) -> list[str]:
        seen: set[str] = set()
        out = []
        for text in texts:
            k = self.key(text)
            if k not in self.index and k not in seen:
                seen.add(k)
                out.append(text)
        return out

    def add(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        import os

        self.directory.mkdir(parents=True, exist_ok=True)
        keys = np.array([self.key(t) for t in texts])
        name = self.directory / f"shard-{time.time_ns()}-{os.getpid()}.npz"
        staging = name.with_suffix(".tmp.npz")
        np.savez(staging, keys=keys, vectors=vectors.astype(np.float32))
        os.replace(staging, name)
        self.index.update(zip(keys.tolist(), vectors, strict=True))

    def vectors(self, texts: Sequence[str], encode: Callable[[list[str]], np.ndarray] | None = None,
                chunk: int = 256, log: Callable[[str], None] | None = None) -> np.ndarray:
        """Vectors of ``texts``; missing ones are computed with ``encode`` (in chunks, each saved as it is done)."""
        todo = self.missing(texts)
        if todo and encode is None:
            raise KeyError(f"{len(todo)} texts are not in {self.directory}")
        started = time.perf_counter()
        for begin in range(0, len(todo), chunk):
            part = todo[begin:begin + chunk]
            self.add(part, encode(part))
            if log:
                done = begin + len(part)
                log(f"  embedded {done}/{len(todo)} ({done / (time.perf_counter() - started):.1f} texts/s)")
        return np.stack([self.index[self.key(t)] for t in texts]) if len(texts) else np.zeros((0, 384), np.float32)
