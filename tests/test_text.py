"""Normalisation, language detection and sentence segmentation."""

from nlp.steps.normalize import normalize_text
from nlp.steps.sentences import Segmenter, detect_language

segmenter = Segmenter()


def test_traditional_to_simplified_and_width_folding() -> None:
    assert normalize_text("對於企業來說，訂單號ＡＢ１２３") == "对于企业来说，订单号AB123"


def test_whitespace_collapsed_emoji_kept() -> None:
    assert normalize_text("  好的\u3000\u3000谢谢😀 \u200b\n\n  再见 ") == "好的 谢谢😀\n再见"


def test_simplification_can_be_turned_off() -> None:
    assert normalize_text("訂單", to_simplified=False) == "訂單"


def test_language_detection() -> None:
    assert detect_language("我的外卖怎么还没到？order 123") == "zh"
    assert detect_language("Where is my order?") == "en"


def test_chinese_sentences_split_on_punctuation() -> None:
    sentences = segmenter.split("你好，我的外卖怎么还没到？都超时一个小时了！！骑手电话也打不通。", "zh")
    assert [s.text for s in sentences] == ["你好，我的外卖怎么还没到？", "都超时一个小时了！！", "骑手电话也打不通。"]


def test_domain_dictionary_keeps_service_words_whole() -> None:
    tokens = segmenter.split("骑手说出餐慢，我要催单然后退款", "zh")[0].tokens
    assert {"骑手", "出餐慢", "催单", "退款"} <= set(tokens)


def test_long_unpunctuated_speech_is_split_at_pauses_and_markers() -> None:
    speech = "我昨天晚上七点在你们平台下了一个单子等了一个多小时骑手一直没有来电话也打不通所以我想问一下能不能退款"
    sentences = segmenter.split(speech, "zh")
    # cut before the discourse marker 所以; the first piece, 39 characters, is within the 40-character limit
    assert [s.text for s in sentences] == [
        "我昨天晚上七点在你们平台下了一个单子等了一个多小时骑手一直没有来电话也打不通", "所以我想问一下能不能退款"]
    assert "".join(s.text for s in sentences) == speech
    assert [s.text for s in segmenter.split("喂 你好 我想问一下订单", "zh")] == ["喂 你好 我想问一下订单"]


def test_english_sentences_with_spacy() -> None:
    sentences = segmenter.split("Hi, my order is late. Where is the rider? Thanks!", "en")
    assert [s.text for s in sentences] == ["Hi, my order is late.", "Where is the rider?", "Thanks!"]
    assert sentences[1].tokens == ("where", "is", "the", "rider", "?")


def test_empty_text_has_no_sentences() -> None:
    assert segmenter.split("", "zh") == []
    assert segmenter.split("   ", "en") == []
