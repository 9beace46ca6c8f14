"""The default lexicon emotion scorer: real evidence, not a constant."""

import pytest

from nlp.schema.document import Utterance
from nlp.steps.emotion.labels import COARSE_EMOTIONS, FINE_EMOTIONS, FINE_TO_COARSE
from nlp.steps.emotion.lexicon import LexiconEmotionScorer
from nlp.steps.sentences import Segmenter

scorer = LexiconEmotionScorer()
segmenter = Segmenter()


def score(text: str, language: str = "zh"):
    tokens = segmenter.tokens(text, language)
    return scorer.score([Utterance(0, 0, "customer", text, language, tokens)])[0]


@pytest.mark.parametrize(
    ("text", "language", "emotion", "sentiment"),
    [
        ("都超时一个小时了，我要投诉！", "zh", "anger", "negative"),
        ("这是我第三次打电话了，到底什么时候送到", "zh", "frustration", "negative"),
        ("饭都凉了，太失望了", "zh", "disappointment", "negative"),
        ("我赶时间，很着急", "zh", "anxiety", "negative"),
        ("为什么扣了两次钱？", "zh", "confusion", "neutral"),
        ("菜很好吃，很满意", "zh", "satisfaction", "positive"),
        ("好的，谢谢你，辛苦了", "zh", "gratitude", "positive"),
        ("订单号是123456", "zh", "neutral", "neutral"),
        ("好的，我知道了", "zh", "neutral", "neutral"),
        ("我不满意", "zh", "disappointment", "negative"),
        ("This is ridiculous, I have been waiting for an hour", "en", "anger", "negative"),
        ("Thanks a lot, that solved it", "en", "gratitude", "positive"),
        ("My order number is 5521", "en", "neutral", "neutral"),
        ("I am not happy at all", "en", "disappointment", "negative"),
    ],
)
def test_emotion_and_sentiment(text: str, language: str, emotion: str, sentiment: str) -> None:
    result = score(text, language)
    assert (result.emotion, result.sentiment) == (emotion, sentiment)
    assert result.emotion_coarse == FINE_TO_COARSE[emotion]
    assert -1 <= result.sentiment_score <= 1 and 0 <= result.emotion_confidence <= 1


def test_scores_order_by_intensity() -> None:
    assert score("很满意").sentiment_score > score("还行吧").sentiment_score > score("太差了，投诉").sentiment_score


def test_label_sets_are_consistent() -> None:
    assert set(FINE_TO_COARSE.values()) <= set(COARSE_EMOTIONS)
    assert {"anger", "frustration", "anxiety", "disappointment", "confusion", "neutral", "satisfaction",
            "gratitude"} <= set(FINE_EMOTIONS)


@pytest.mark.parametrize(
    ("text", "sentiment_score", "emotion", "confidence"),
    [
        # no sentiment word, no emotion term: score 0, neutral with confidence 1 − |0|
        ("订单号是123456", 0.0, "neutral", 1.0),
        # HowNet's negative 投诉 (−1) and the anger term 投诉 (2.0): tanh(−3/2); confidence 2 / (2 + 1)
        ("我要投诉", -0.9051, "anger", 0.6667),
        # 不 flips HowNet's positive 满意 (−1) and turns the satisfaction term 满意 (1.5) into disappointment:
        # tanh(−2.5/2); confidence 1.5 / (1.5 + 1)
        ("我不满意", -0.8483, "disappointment", 0.6),
    ],
)
def test_scores_follow_the_documented_formula(text: str, sentiment_score: float, emotion: str,
                                              confidence: float) -> None:
    result = score(text)
    assert (result.sentiment_score, result.emotion, result.emotion_confidence) == (sentiment_score, emotion,
                                                                                  confidence)
