"""Analytics settings: emotion weights, pain weights, thresholds and markers, read from YAML or the defaults.

Every number the analytics use is here, so a team can see and change how NEV and pain are computed
(``journeylens rank --settings analytics.yaml``). The formulas are documented in ``docs/analytics.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nlp.schema.transcript import describe_validation_error

PAIN_COMPONENTS = (
    "unresolved", "negative_share", "worsened", "repeat_contact", "transfer", "bot_handoff", "escalation",
    "long_wait", "complaint_threat", "broken_promise", "effort",
)


class AnalyticsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str = "Asia/Shanghai"  # business days, weeks and promise deadlines are local to this zone
    # NEV: weight of each fine emotion of a customer utterance; unlisted emotions (neutral, confusion) count 0.
    emotion_weights: dict[str, float] = Field(default_factory=lambda: {
        "satisfaction": 1.0, "gratitude": 1.0, "surprise": 0.0,
        "anger": -1.0, "frustration": -1.0, "disappointment": -1.0, "anxiety": -1.0,
    })
    # Pain: weight of each component (each component is in [0, 1]); pain = 100 × Σ w·x / Σ w.
    pain_weights: dict[str, float] = Field(default_factory=lambda: {
        "unresolved": 3.0, "negative_share": 2.0, "worsened": 1.0, "repeat_contact": 2.0, "transfer": 1.0,
        "bot_handoff": 0.5, "escalation": 1.0, "long_wait": 1.0, "complaint_threat": 2.0, "broken_promise": 2.0,
        "effort": 1.0,
    })
    unresolved_below: float = -0.2  # mean sentiment of the last third of customer utterances below this
    repeat_window_days: int = Field(default=7, ge=1)  # another contact about the same order/customer within N days
    # Longest customer → reply gap that counts as a long wait, for every canonical channel (nlp/schema/channels.py):
    # live channels in seconds, messaging within the hour, asynchronous ones within the day (a voicemail's call-back
    # within 4 hours). A channel outside this table (a source's own name) never counts as a long wait.
    long_wait_seconds: dict[str, float] = Field(default_factory=lambda: {
        "call": 60, "video": 60, "chat": 120, "app": 300, "wechat": 300, "whatsapp": 300, "sms": 3_600,
        "social": 3_600, "voicemail": 14_400, "email": 86_400, "ticket": 86_400, "web": 86_400, "review": 86_400,
    })
    effort_markers_for_full: int = Field(default=2, ge=1)  # this many effort markers make the component 1
    min_contacts: int = Field(default=30, ge=1)  # below: the number is shown as unreliable
    min_utterances: int = Field(default=50, ge=1)
    bootstrap_samples: int = Field(default=500, ge=50)
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)
    seed: int = 0
    anomaly_z: float = Field(default=3.5, gt=0)  # robust z-score beyond which a period is flagged
    min_effect_size: float = Field(default=0.2, ge=0)  # impact: smaller effects are never called a change
    complaint_threat_pattern: str = (
        r"投诉|12315|差评|曝光|消协|消费者协会|举报|媒体|律师|起诉|315|"
        r"(?i:complain|report you|lawyer|sue\b|bad review|1-star|one star)"
    )
    effort_pattern: str = (
        r"又要|又让|又是|又来|又得|第[二三四五六七八九两2-9]次|再说一遍|再说一次|说了多少遍|说过了|已经说过|"
        r"已经联系过|已经打过|已经反馈过|重复|从头|还要我|一遍又一遍|来回|折腾|"
        r"(?i:again|third time|second time|already told|already said|repeat myself|keep asking)"
    )
    # a later contact that says the promise was not kept: "说好的…", "到现在都没", "还是没"
    chase_pattern: str = (
        r"说好|答应我|承诺我|不是说|上次说|昨天说|说今天|说明天|到现在(都|还|也)?没|还是没|也没人|一直没|还没(到|收到|回|联系)|"
        r"(?i:you promised|was supposed to|still (haven't|hasn't|no)|never (called|came|arrived))"
    )

    @model_validator(mode="before")
    @classmethod
    def _pipeline_settings(cls, data: Any) -> Any:
        """A vague promise's deadline is set when the promise is found, by the scoring config (nlp/config.py)."""
        if isinstance(data, dict) and "promise_vague_hours" in data:
            raise ValueError("promise_vague_hours is a scoring setting (the --config file of journeylens score): "
                             "deadlines are fixed when a promise is found, not when it is judged")
        return data

    def pain_weight_total(self) -> float:
        return sum(self.pain_weights.get(c, 0.0) for c in PAIN_COMPONENTS)


def load_analytics_settings(path: str | Path | None) -> AnalyticsSettings:
    """The settings in ``path`` (YAML), or the defaults when ``path`` is None."""
    if path is None:
        return AnalyticsSettings()
    path = Path(path)
    try:
        settings = AnalyticsSettings.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot read analytics settings: {error}") from error
    except ValidationError as error:
        raise ValueError(f"{path}: {describe_validation_error(error)}") from error
    unknown = set(settings.pain_weights) - set(PAIN_COMPONENTS)
    if unknown:
        raise ValueError(f"{path}: unknown pain component(s) {sorted(unknown)}; known: {list(PAIN_COMPONENTS)}")
    if settings.pain_weight_total() <= 0:
        raise ValueError(f"{path}: pain_weights must have a positive sum")
    return settings
