"""Sentence vectors for the stage, issue-type and discovery heads: one encoder pass per distinct text.

``TextVectors`` wraps the e5 encoder (nlp/steps/encoder.py), or any Hugging Face encoder directory
(``sentence_encoder`` of the pipeline configuration), with a memo keyed by (prefix, text), the last 20,000
texts (~30 MB): the pipeline embeds a batch's utterances once (``query: ``) and every head that needs them
(stages, issue types, discovery) reads the same vectors; a taxonomy's texts are embedded once per process. With
``cache_dir``
(or ``$JOURNEYLENS_EMBEDDING_CACHE``) vectors also persist on disk as ``.npz`` shards, which evaluation scripts
use so that a second run does not pay for the encoder again; each encoder has a directory of its own there.
``shared_vectors(encoder)`` is the process-wide instance per encoder, so an encoder (~1.2 GB resident for e5) is
loaded once however many taxonomies a run uses.

Any callable ``texts, kind -> (n, dim) unit vectors`` can stand in for the encoder (tests use a small one).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from nlp.resources import embedding_cache_dir

EncodeFn = Callable[[list[str], str], np.ndarray]


def _key(kind: str, text: str) -> str:
    return hashlib.sha1(f"{kind}\x00{text}".encode()).hexdigest()[:20]


class TextVectors:
    """Unit vectors per text, computed in batches, remembered (up to ``max_memo`` in memory, all on disk)."""

    def __init__(self, encode: EncodeFn | None = None, cache_dir: str | Path | None = None,
                 max_memo: int = 20_000, batch_size: int = 64, max_length: int = 128,
                 encoder: str | Path | None = None) -> None:
        """``encoder``: a Hugging Face encoder directory, None for multilingual-e5-small (``encode`` overrides
        both: tests)."""
        self._encode = encode
        self.encoder = None if encoder is None else Path(encoder)
        model_id = "e5" if self.encoder is None else encoder_id(self.encoder)
        self.batch_size = batch_size
        self.max_length = max_length
        self.max_memo = max_memo
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        directory = cache_dir if cache_dir is not None else embedding_cache_dir()
        self.cache_dir = Path(directory) / f"{model_id}-len{max_length}" if directory else None
        self._disk: dict[str, np.ndarray] = {}
        if self.cache_dir is not None and self.cache_dir.is_dir():
            for shard in sorted(self.cache_dir.glob("*.npz")):
                with np.load(shard) as data:
                    self._disk.update(zip(data["keys"].tolist(), data["vectors"], strict=True))
        self.encoded = 0  # texts actually sent through the encoder (for throughput reports)

    @property
    def encode_fn(self) -> EncodeFn:
        if self._encode is None:
            from nlp.steps.encoder import Encoder

            encoder = Encoder.load(self.encoder)

            def encode(texts: list[str], kind: str) -> np.ndarray:
                return encoder.encode(texts, kind=kind, batch_size=self.batch_size,  # type: ignore[arg-type]
                                      max_length=self.max_length)

            self._encode = encode
        return self._encode

    def __call__(self, texts: Sequence[str], kind: str = "query") -> np.ndarray:
        """(len(texts), dim) float32 unit vectors; each distinct missing text is encoded once."""
        keys = [_key(kind, t) for t in texts]
        with self._lock:
            found: dict[str, np.ndarray] = {}
            missing: dict[str, str] = {}
            for key, text in zip(keys, texts, strict=True):
                if key in found or key in missing:
                    continue
                vector = self._memo.get(key)
                if vector is None:
                    vector = self._disk.get(key)
                if vector is None:
                    missing[key] = text
                else:
                    found[key] = vector
                    self._remember(key, vector)
            if missing:
                vectors = np.asarray(self.encode_fn(list(missing.values()), kind), dtype=np.float32)
                self.encoded += len(missing)
                for key, vector in zip(missing, vectors, strict=True):
                    found[key] = vector
                    self._remember(key, vector)
                self._save(list(missing), vectors)
            if not keys:
                return np.zeros((0, 0), dtype=np.float32)
            return np.stack([found[k] for k in keys]).astype(np.float32)

    def _remember(self, key: str, vector: np.ndarray) -> None:
        self._memo[key] = vector
        self._memo.move_to_end(key)
        while len(self._memo) > self.max_memo:
            self._memo.popitem(last=False)

    def _save(self, keys: list[str], vectors: np.ndarray) -> None:
        if self.cache_dir is None:
            return
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha1("".join(keys).encode()).hexdigest()[:16]
        staging = self.cache_dir / f".{name}.{os.getpid()}.npz"
        np.savez(staging, keys=np.asarray(keys), vectors=vectors.astype(np.float16))
        staging.replace(self.cache_dir / f"{name}.npz")
        self._disk.update(zip(keys, vectors.astype(np.float16), strict=True))


def encoder_id(directory: Path) -> str:
    """A name for an encoder directory's vectors on disk: its folder name and a hash of its resolved path and
    ``config.json``, so two encoders (or a changed one) never read each other's cached vectors."""
    config = directory / "config.json"
    content = config.read_bytes() if config.is_file() else b""
    digest = hashlib.sha1(str(directory.resolve()).encode() + b"\x00" + content).hexdigest()[:10]
    return f"{directory.name}-{digest}"


_SHARED: dict[str | None, TextVectors] = {}
_SHARED_LOCK = threading.Lock()


def shared_vectors(encoder: str | Path | None = None) -> TextVectors:
    """The process-wide ``TextVectors`` over ``encoder`` (a Hugging Face directory; None: the default e5
    encoder), loaded on first use."""
    key = None if encoder is None else str(Path(encoder).resolve())
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = TextVectors(encoder=encoder)
        return _SHARED[key]


def set_shared_vectors(vectors: TextVectors | None) -> None:
    """Replace the process-wide instance of the default encoder (tests, evaluation with a disk cache); None
    resets it."""
    with _SHARED_LOCK:
        if vectors is None:
            _SHARED.pop(None, None)
        else:
            _SHARED[None] = vectors
