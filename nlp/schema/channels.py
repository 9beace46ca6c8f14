"""Contact channels: the one place where a source's channel names become canonical names.

Any channel is accepted. Known synonyms (voice, phone, 电话 → call; im, 在线 → chat; weibo, twitter → social;
短信 → sms; 微信 → wechat; ...) map to the canonical names in ``CHANNELS``; any other name is kept, lower-cased
with spaces and hyphens as ``_``.
"""

from __future__ import annotations

import re

CHANNELS = (
    "chat", "call", "email", "ticket", "sms", "social", "wechat", "whatsapp", "app", "web", "video", "review",
    "voicemail",
)

# Keys are in the form ``_key`` gives them: lower case, runs of spaces and hyphens as one "_".
_SYNONYMS: dict[str, str] = {
    **{name: "call" for name in (
        "voice", "phone", "phone_call", "telephone", "telephony", "tel", "hotline", "inbound_call", "outbound_call",
        "电话", "语音", "来电", "去电", "呼入", "呼出", "热线", "通话",
    )},
    **{name: "chat" for name in (
        "im", "live_chat", "livechat", "webchat", "web_chat", "online_chat", "messaging", "在线", "在线客服",
        "在线咨询", "聊天", "文字客服",
    )},
    **{name: "email" for name in ("mail", "e_mail", "邮件", "电子邮件", "邮箱")},
    **{name: "ticket" for name in ("case", "工单", "表单")},
    **{name: "sms" for name in ("text", "text_message", "短信", "短消息")},
    **{name: "social" for name in (
        "social_media", "twitter", "x", "weibo", "facebook", "instagram", "tiktok", "douyin", "xiaohongshu",
        "微博", "抖音", "小红书", "社交媒体",
    )},
    **{name: "wechat" for name in ("weixin", "微信")},
    **{name: "app" for name in ("mobile_app", "in_app", "应用")},
    **{name: "web" for name in ("website", "web_form", "网页", "官网")},
    **{name: "video" for name in ("video_call", "视频", "视频通话")},
    **{name: "review" for name in ("reviews", "rating", "评价", "点评", "评论")},
    **{name: "voicemail" for name in ("voice_mail", "语音留言", "留言")},
}
_SEPARATORS = re.compile(r"[\s\-]+")


def normalize_channel(name: str) -> str | None:
    """The canonical channel for a source's channel name; None for a blank name."""
    key = _SEPARATORS.sub("_", name.strip().lower())
    return _SYNONYMS.get(key, key) or None


def is_synonym(name: str) -> bool:
    """Whether ``name`` was mapped to another channel name (not just lower-cased)."""
    return _SEPARATORS.sub("_", name.strip().lower()) in _SYNONYMS
