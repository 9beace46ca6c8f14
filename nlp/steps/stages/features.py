"""Sparse text features for the stage classifiers: character n-grams for Chinese, stemmed words for English.

Chinese has no spaces and its characters carry meaning, so a text becomes its character 1–3-grams (骑手没到 →
骑, 手, 没, 到, 骑手, 手没, 没到, 骑手没, 手没到). English becomes lower-cased stemmed words and word bigrams.
Features are weighted ``(1 + log tf) × idf`` and L2-normalised; the idf comes from a background table of
document frequencies (``models/stages/background_df.tsv.gz``, built by ``scripts/build_background_df.py`` from
public review, dialogue and intent texts) so that words every contact uses (您好, 的, the, please) weigh little
and stage words weigh much. A ``Featurizer`` maps features to columns of a fixed vocabulary; features outside
it still count towards a text's norm, so a long text that mentions a stage word once is less similar than a
short one that is all about it.
"""

from __future__ import annotations

import gzip
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import sparse

from nlp.resources import models_dir

_TOKEN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[a-z]+(?:'[a-z]+)?|\d+")
_CJK_START = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_EN_STOP = frozenset(
    "a an the to of and or in on at for is are was were be been am i you he she it we they me my your our "
    "this that these those there here with as by from do does did so if but not no yes ok okay please "
    "would could can will shall should may might have has had just also too very".split()
)
BACKGROUND_DF = "background_df.tsv.gz"


def stem(word: str) -> str:
    """A light English stemmer: plural and verb endings only (trains → train, booked → book)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed") and not word.endswith("eed"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def text_features(text: str) -> list[str]:
    """The features of one text: Chinese character 1–3-grams, English stems and stem bigrams, numbers."""
    out: list[str] = []
    previous: str | None = None
    for token in _TOKEN.findall(text.lower()):
        if _CJK_START.match(token):
            previous = None
            n = len(token)
            out.extend(token)
            out.extend(token[i:i + 2] for i in range(n - 1))
            out.extend(token[i:i + 3] for i in range(n - 2))
        elif token[0].isdigit():
            out.append("#" + token if len(token) <= 4 else "#num")
            previous = None
        else:
            if token in _EN_STOP:
                previous = None
                continue
            word = stem(token)
            out.append("w:" + word)
            if previous is not None:
                out.append("b:" + previous + "_" + word)
            previous = word
    return out


class BackgroundIdf:
    """Inverse document frequencies from a background corpus; unseen features get the largest idf."""

    def __init__(self, df: dict[str, int], n_docs: int) -> None:
        self.n_docs = max(n_docs, 1)
        self.max_idf = math.log((self.n_docs + 1) / 1.0)
        self._idf = {f: math.log((self.n_docs + 1) / (d + 1)) + 1.0 for f, d in df.items()}
        self.unseen = self.max_idf + 1.0

    def __call__(self, feature: str) -> float:
        return self._idf.get(feature, self.unseen)

    @classmethod
    def uniform(cls) -> BackgroundIdf:
        return cls({}, 1)

    @staticmethod
    def write(path: Path, df: Counter, n_docs: int, min_df: int = 2) -> None:
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(f"#docs\t{n_docs}\n")
            for feature, count in sorted(df.items(), key=lambda x: (-x[1], x[0])):
                if count >= min_df and "\t" not in feature and "\n" not in feature:
                    handle.write(f"{feature}\t{count}\n")

    @classmethod
    def read(cls, path: Path) -> BackgroundIdf:
        df: dict[str, int] = {}
        n_docs = 1
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                feature, _, count = line.rstrip("\n").rpartition("\t")
                if feature == "#docs":
                    n_docs = int(count)
                else:
                    df[feature] = int(count)
        return cls(df, n_docs)


@lru_cache(maxsize=1)
def background_idf() -> BackgroundIdf:
    """The shipped background idf table, or uniform weights when it is missing."""
    path = models_dir() / "stages" / BACKGROUND_DF
    return BackgroundIdf.read(path) if path.is_file() else BackgroundIdf.uniform()


class Featurizer:
    """Texts → L2-normalised sparse tf-idf rows over a fixed vocabulary."""

    def __init__(self, vocabulary: Sequence[str], idf: BackgroundIdf | None = None) -> None:
        self.vocabulary = list(vocabulary)
        self.index = {f: i for i, f in enumerate(self.vocabulary)}
        self.idf = idf or background_idf()

    @classmethod
    def fit(cls, texts: Iterable[str], idf: BackgroundIdf | None = None, min_count: int = 1) -> Featurizer:
        counts = Counter(f for text in texts for f in set(text_features(text)))
        return cls(sorted(f for f, c in counts.items() if c >= min_count), idf)

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        index, idf = self.index, self.idf
        indptr, indices, data = [0], [], []
        for text in texts:
            counts = Counter(text_features(text))
            norm = 0.0
            row_idx, row_val = [], []
            for feature, tf in counts.items():
                weight = (1.0 + math.log(tf)) * idf(feature)
                norm += weight * weight
                column = index.get(feature)
                if column is not None:
                    row_idx.append(column)
                    row_val.append(weight)
            scale = 1.0 / math.sqrt(norm) if norm else 0.0
            indices.extend(row_idx)
            data.extend(v * scale for v in row_val)
            indptr.append(len(indices))
        return sparse.csr_matrix((np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int32),
                                  np.asarray(indptr, dtype=np.int64)), shape=(len(texts), len(self.vocabulary)))
