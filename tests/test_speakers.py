"""Speaker names as exports write them -> the canonical role: every synonym, written out by hand."""

from __future__ import annotations

import pytest

from nlp.schema.speakers import normalize_speaker
from nlp.schema.transcript import Turn

# README: "Speakers are customer, agent, bot, ivr, system, third_party; common synonyms (客户, 用户, 顾客, 买家, 客服,
# 坐席, 机器人, 骑手, 商家, caller, END_USER, HUMAN_AGENT …) are mapped."
README_SYNONYMS = {
    "客户": "customer", "用户": "customer", "顾客": "customer", "买家": "customer", "客服": "agent", "坐席": "agent",
    "机器人": "bot", "骑手": "third_party", "商家": "third_party", "caller": "customer", "END_USER": "customer",
    "HUMAN_AGENT": "agent",
}

EXPECTED_ROLE = {
    **README_SYNONYMS,
    # customers
    "customer": "customer", "cust": "customer", "client": "customer", "user": "customer", "end_user": "customer",
    "enduser": "customer", "consumer": "customer", "buyer": "customer", "guest": "customer", "客人": "customer",
    "消费者": "customer", "来电人": "customer", "访客": "customer", "会员": "customer",
    # agents
    "agent": "agent", "human_agent": "agent", "humanagent": "agent", "csr": "agent", "rep": "agent",
    "representative": "agent", "operator": "agent", "advisor": "agent", "staff": "agent", "座席": "agent",
    "supervisor": "agent", "custom_bot": "bot",
    "人工": "agent", "人工客服": "agent", "在线客服": "agent", "话务员": "agent", "服务人员": "agent", "专员": "agent",
    "客服专员": "agent",
    # bots
    "bot": "bot", "chatbot": "bot", "virtual_agent": "bot", "automated_agent": "bot", "assistant": "bot",
    "robot": "bot", "智能客服": "bot", "智能助手": "bot", "小助手": "bot", "自助服务": "bot",
    # IVR and system
    "ivr": "ivr", "语音导航": "ivr", "语音菜单": "ivr", "自动语音": "ivr",
    "system": "system", "sys": "system", "系统": "system", "系统消息": "system", "系统通知": "system",
    # third parties
    "third_party": "third_party", "thirdparty": "third_party", "third-party": "third_party",
    "merchant": "third_party", "rider": "third_party", "courier": "third_party", "driver": "third_party",
    "installer": "third_party", "technician": "third_party", "hotel": "third_party",
    "service_station": "third_party", "配送员": "third_party", "快递员": "third_party", "司机": "third_party",
    "安装师傅": "third_party", "师傅": "third_party", "维修师傅": "third_party", "服务站": "third_party",
    "网点": "third_party", "酒店": "third_party", "前台": "third_party", "第三方": "third_party",
}


@pytest.mark.parametrize(("name", "role"), sorted(EXPECTED_ROLE.items()))
def test_every_synonym_maps_to_its_role(name: str, role: str) -> None:
    assert normalize_speaker(name) == role
    assert Turn(speaker=name, text="你好").speaker == role  # the canonical transcript's validation agrees


@pytest.mark.parametrize(("name", "role"), [
    ("Agent 2", "agent"), ("客服01", "agent"), ("  Customer ", "customer"), ("END USER", "customer"),
    ("Human Agent", "agent"), ("骑手#3", "third_party"), ("买家 １２", "customer"), ("Virtual Agent", "bot"),
])
def test_case_space_and_a_trailing_number_are_tolerated(name: str, role: str) -> None:
    assert normalize_speaker(name) == role


@pytest.mark.parametrize("name", ["martian", "spk_0", "客", "服务", "", "agent smith"])
def test_unknown_names_are_not_guessed(name: str) -> None:
    assert normalize_speaker(name) is None


def test_the_table_above_lists_every_synonym_the_code_knows() -> None:
    from nlp.schema.speakers import _SYNONYMS

    assert set(_SYNONYMS) == {name.lower() for name in EXPECTED_ROLE}
