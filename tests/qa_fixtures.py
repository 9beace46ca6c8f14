"""Small stores for the agent QA tests: a few contacts written straight into the store's tables, so that every
item's outcome (and so every score) can be worked out by hand."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from nlp.store import Store

# A scorecard whose weights make the arithmetic easy to follow: 10 + 20 + 30 + 40 = 100.
CARD = """
id: test_card
name: test card
items:
  - id: greet
    name: greeting
    weight: 10
    when:
      all:
        - position: {first: 2}
        - phrases: [您好, 你好, hello]
  - id: verify
    name: identity verification
    weight: 20
    category: identity_verification
  - id: empathy
    name: empathy
    weight: 30
    when: {phrases: [理解您, i understand]}
    applies_if: {all: [{speaker: customer}, {sentiment: negative}]}
  - id: close
    name: closing
    weight: 40
    when:
      all:
        - position: {last: 2}
        - phrases: [再见, goodbye]
auto_fail:
  - id: abuse
    name: abusive language
    when: {phrases: [闭嘴, shut up]}
"""

MONDAY_NOON = datetime(2026, 8, 3, 4)  # 12:00 on Monday 3 August 2026 in Asia/Shanghai, stored as naive UTC
NEXT_MONDAY_NOON = datetime(2026, 8, 10, 4)
SEPTEMBER = datetime(2026, 9, 7, 4)  # the built-in scorecard's contacts, after the others

# (id, started_at in UTC, metadata, [(speaker, text, sentiment)])
CONTACTS = [
    ("c1", MONDAY_NOON, {"agent_id": "a1", "team": "t1"}, [
        ("agent", "您好，请问有什么可以帮您", None),
        ("customer", "我要退款", "neutral"),
        ("agent", "请提供手机后四位", None),
        ("agent", "好的，再见", None),
    ]),
    ("c2", MONDAY_NOON.replace(hour=5), {"agent_id": "a1", "team": "t1"}, [
        ("agent", "你好", None),
        ("customer", "太慢了", "negative"),
        ("agent", "马上处理", None),
        ("customer", "好吧", "neutral"),
        ("agent", "嗯", None),
    ]),
    ("c3", NEXT_MONDAY_NOON, {"agent_id": "a2", "team": "t2"}, [
        ("customer", "hi", "neutral"),
        ("customer", "this is ridiculous", "negative"),
        ("agent", "Hello, I understand.", None),
        ("agent", "Goodbye!", None),
    ]),
    ("c4", NEXT_MONDAY_NOON.replace(hour=5), {"agent_id": "a2", "team": "t2"}, [
        ("agent", "您好", None),
        ("customer", "你们怎么回事", "negative"),
        ("agent", "你闭嘴", None),
        ("agent", "再见", None),
    ]),
    ("c5", NEXT_MONDAY_NOON.replace(hour=6), {}, [  # a bot only: no agent utterance, not scored
        ("bot", "您好，我是智能客服", None),
        ("customer", "转人工", "neutral"),
    ]),
    ("c6", NEXT_MONDAY_NOON.replace(hour=7), {"agent_id": "a3"}, [  # no team
        ("agent", "嗯", None),
        ("customer", "好", "neutral"),
        ("agent", "嗯嗯", None),
    ]),
]

# The built-in scorecard (weights 10 greeting, 20 verification, 15 empathy, 25 resolution, 15 promise, 15 closing)
BUILTIN_CONTACTS = [
    ("zh", SEPTEMBER, {"agent_id": "z1"}, [
        ("agent", "您好，很高兴为您服务", None),
        ("customer", "我的快递三天了还没到，太慢了", "negative"),
        ("agent", "非常理解您的心情，麻烦报一下手机后四位", None),
        ("customer", "1234", "neutral"),
        ("agent", "已经为您催促配送，我会跟进，明天下午前给您回复", None),
        ("agent", "请问还有什么可以帮您？", None),
        ("customer", "没有了，谢谢", "positive"),
    ]),
    ("en", SEPTEMBER, {"agent_id": "e1"}, [
        ("agent", "Thank you for calling, how can I help?", None),
        ("customer", "I want to change my delivery address.", "neutral"),
        ("agent", "Sure, I'll get back to you about that.", None),
        ("customer", "ok", "neutral"),
        ("agent", "Have a nice day.", None),
    ]),
]


def write_store(path: Path | str, contacts=CONTACTS, categories: bool = False) -> Path:
    """The contacts in a store at ``path`` (``:memory:`` is not kept); ``categories``: also run the built-in
    category pack over them."""
    with Store(path) as store:
        for transcript_id, started_at, metadata, utterances in contacts:
            store.con.execute("INSERT INTO transcripts (transcript_id, started_at, channel, metadata, taxonomy) "
                              "VALUES (?, ?, 'chat', ?, 'food_delivery')",
                              [transcript_id, started_at, json.dumps(metadata, ensure_ascii=False)])
            for index, (speaker, text, sentiment) in enumerate(utterances):
                store.con.execute("INSERT INTO utterances (transcript_id, utterance_index, turn_index, sentence_index, "
                                  "speaker, text, sentiment) VALUES (?, ?, ?, 0, ?, ?, ?)",
                                  [transcript_id, index, index, speaker, text, sentiment])
        if categories:
            from nlp.categories import categorize_store, load_categories

            categorize_store(store.con, load_categories("contact_centre"))
    return Path(path)
