"""PII redaction: every kind replaced by its placeholder, lookalikes left alone."""

import pytest

from nlp.redact import Redactor

redact = Redactor()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的手机13812345678，麻烦回电", "我的手机<PHONE>，麻烦回电"),
        ("电话 138-1234-5678 或 +86 139 1234 5678", "电话 <PHONE> 或 <PHONE>"),
        ("座机010-62345678，分机无", "座机<PHONE>，分机无"),
        ("深圳(0755)23456789", "深圳<PHONE>"),
        ("身份证号11010519491231002X", "身份证号<ID>"),
        ("身份证 110105194912310021 已提供", "身份证 <ID> 已提供"),
        ("卡号6222 0212 3456 7894，尾号7894", "卡号<CARD>，尾号7894"),
        ("card 4111-1111-1111-1111 please", "card <CARD> please"),
        ("mail me: zhang.san+cs@example.com.cn", "mail me: <EMAIL>"),
    ],
)
def test_each_kind_is_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "订单号20261001123456789，金额38元",  # 17 digits, no ID shape
        "订单号 1234567890123",  # fails Luhn
        "等了45分钟，第3次联系",
        "房间号 1203，入住2晚",
    ],
)
def test_lookalikes_are_kept(text: str) -> None:
    assert redact(text) == text


def test_kinds_are_configurable() -> None:
    only_email = Redactor(kinds=("email",))
    assert only_email("13812345678 a@b.com") == "13812345678 <EMAIL>"
    assert Redactor(kinds=())("13812345678") == "13812345678"


def test_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown PII kinds"):
        Redactor(kinds=("passport",))
