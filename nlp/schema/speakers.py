"""Speaker roles: the one place where a source's speaker names become canonical roles."""

from __future__ import annotations

import re

# Lower-cased synonyms seen in exports of contact-centre platforms and ASR engines.
_SYNONYMS: dict[str, str] = {
    **{name: "customer" for name in (
        "customer", "cust", "client", "caller", "user", "end_user", "enduser", "consumer", "buyer", "guest",
        "客户", "用户", "顾客", "买家", "客人", "消费者", "来电人", "访客", "会员",
    )},
    **{name: "agent" for name in (
        "agent", "human_agent", "humanagent", "supervisor", "csr", "rep", "representative", "operator", "advisor",
        "staff",
        "客服", "坐席", "座席", "人工", "人工客服", "在线客服", "话务员", "服务人员", "专员", "客服专员",
    )},
    **{name: "bot" for name in (
        "bot", "chatbot", "virtual_agent", "automated_agent", "custom_bot", "assistant", "robot",
        "机器人", "智能客服", "智能助手", "小助手", "自助服务",
    )},
    **{name: "ivr" for name in ("ivr", "语音导航", "语音菜单", "自动语音")},
    **{name: "system" for name in ("system", "sys", "系统", "系统消息", "系统通知")},
    **{name: "third_party" for name in (
        "third_party", "thirdparty", "third-party", "merchant", "rider", "courier", "driver", "installer",
        "technician", "hotel", "service_station", "商家", "骑手", "配送员", "快递员", "司机", "安装师傅",
        "师傅", "维修师傅", "服务站", "网点", "酒店", "前台", "第三方",
    )},
}

_TRAILING_ID = re.compile(r"[\s_\-#]*[0-9０-９]+$")


def normalize_speaker(name: str) -> str | None:
    """Map a source's speaker name to a canonical role, or ``None`` when it is not recognised.

    Tolerates case, surrounding space and a trailing number ("Agent 2", "客服01").
    """
    key = name.strip().lower().replace(" ", "_")
    if key in _SYNONYMS:
        return _SYNONYMS[key]
    stripped = _TRAILING_ID.sub("", key)
    return _SYNONYMS.get(stripped)


def speaker_prefixes() -> list[str]:
    """All synonyms, longest first, for parsing "客服：..." style plain-text lines."""
    return sorted({s for s in _SYNONYMS if not s.isascii() or s.isalpha()}, key=len, reverse=True)
