"""The emotion label set every scorer returns, and its mappings.

Fine customer-service emotions map to the six coarse (Ekman-style) ones as GoEmotions groups them:
confusion counts as surprise, frustration as anger, disappointment as sadness, anxiety as fear.
"""

from __future__ import annotations

from dataclasses import dataclass

FINE_TO_COARSE: dict[str, str] = {
    "anger": "anger",
    "frustration": "anger",
    "anxiety": "fear",
    "disappointment": "sadness",
    "confusion": "surprise",
    "surprise": "surprise",
    "neutral": "neutral",
    "satisfaction": "joy",
    "gratitude": "joy",
}
FINE_EMOTIONS = tuple(FINE_TO_COARSE)
COARSE_EMOTIONS = ("anger", "joy", "sadness", "fear", "surprise", "neutral")
NEGATIVE_EMOTIONS = frozenset({"anger", "frustration", "anxiety", "disappointment"})
POSITIVE_EMOTIONS = frozenset({"satisfaction", "gratitude"})
SENTIMENT_THRESHOLD = 0.2


@dataclass(frozen=True)
class EmotionScore:
    """What an emotion scorer says about one utterance."""

    sentiment: str  # negative | neutral | positive
    sentiment_score: float  # in [-1, 1]
    emotion: str  # one of FINE_EMOTIONS
    emotion_coarse: str  # one of COARSE_EMOTIONS
    emotion_confidence: float  # in [0, 1]


def to_coarse(emotion: str) -> str:
    return FINE_TO_COARSE[emotion]


def sentiment_label(score: float) -> str:
    """``positive`` above +0.2, ``negative`` below −0.2, else ``neutral``."""
    if score > SENTIMENT_THRESHOLD:
        return "positive"
    if score < -SENTIMENT_THRESHOLD:
        return "negative"
    return "neutral"
