"""PII redaction: every kind replaced by its placeholder, lookalikes left alone."""

import time

import pytest

from nlp.steps.redact import Redactor, map_strings

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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("手机1381 234 5678", "手机<PHONE>"),
        ("手机138.1234.5678。", "手机<PHONE>。"),
        ("手机138，1234，5678，谢谢", "手机<PHONE>，谢谢"),
        ("手机１３８１２３４５６７８", "手机<PHONE>"),
        ("念一下：1 3 8 1 2 3 4 5 6 7 8", "念一下：<PHONE>"),
        ("座机010 6234 5678", "座机<PHONE>"),
        ("身份证110101 19900307 123X", "身份证<ID>"),
        ("身份证1101 0119 9003 0712 3X", "身份证<ID>"),
        ("手机一三八一二三四五六七八", "手机<PHONE>"),
        ("手机幺三八〇二三四五六七八", "手机<PHONE>"),
        ("手机一三八零二三四五六七八，一直打不通", "手机<PHONE>，一直打不通"),
        ("电话13812345678一直打不通", "电话<PHONE>一直打不通"),
        ("邮箱：张三@example.com", "邮箱：<EMAIL>"),
        ("mail info@例子.中国 thanks", "mail <EMAIL> thanks"),
        ("mail zhang.san @ example.com", "mail <EMAIL>"),
        ("ｍａｉｌ　ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ", "ｍａｉｌ　<EMAIL>"),
    ],
)
def test_spaced_full_width_and_spoken_forms_are_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-10-01 13:45 送达，金额138.50元，共3件",
        "订单号3040389220374355，退款1,380.00元",
        "第一次是一二三号，二〇二六年十月",
        "价格 13.80 / 12.50 / 19.90",
        "CX-20260801-000007",  # a date and a sequence: 14 digits, Luhn-valid, but not in a card's groups
        "T-1-30-2026-1001",  # 11 digits from 1, 3 … but not in a phone number's groups
    ],
)
def test_ordinary_numbers_in_new_forms_are_kept(text: str) -> None:
    assert redact(text) == text


def test_pseudonymize_is_stable_across_widths_and_keeps_other_ids() -> None:
    token = redact.pseudonymize("13812345678")
    assert token is not None and token.startswith("pii-")
    assert redact.pseudonymize("１３８１２３４５６７８") == token
    assert redact.pseudonymize("call-13812345678") not in (token, "call-13812345678")
    assert redact.pseudonymize("CX-20260801-000053") == "CX-20260801-000053"
    assert redact.pseudonymize(None) is None



def test_the_pseudonym_is_the_one_earlier_runs_stored() -> None:
    """The token is stored as transcript and customer id: another token for the same number (a longer slice of
    the hash, another encoding) would split a customer's contacts between old and new runs and make a rerun
    store every PII id a second time instead of skipping it."""
    assert redact.pseudonymize("13812345678") == "pii-38aed9048140b0e4"
    assert redact.pseudonymize("１３８ １２３４ ５６７８") == redact.pseudonymize("138 1234 5678")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # an ID-shaped number that is not an ID (no birth date), then an ID
        ("订单号 123456789012345678 身份证 11010519491231002X", "订单号 123456789012345678 身份证 <ID>"),
        # a card-shaped number that fails Luhn, then a card
        ("卡号 6222021234567890 和 6222021234567894", "卡号 6222021234567890 和 <CARD>"),
    ],
)
def test_a_rejected_lookalike_does_not_end_the_search(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("邮箱a@x.com 电话13812345678", "邮箱<EMAIL> 电话<PHONE>"),
        ("a@x.com b@y.com 电话13812345678", "<EMAIL> <EMAIL> 电话<PHONE>"),
    ],
)
def test_kinds_after_a_replacement_are_found_at_their_place(text: str, expected: str) -> None:
    """Each kind matches on the view left by the kinds before it: the view must stay aligned with the text."""
    assert redact(text) == expected


def test_map_strings_cleans_every_string_and_key_and_keeps_the_rest() -> None:
    metadata = {"回拨13812345678": ["a@x.com", 3, ("13912345678",)], 7: None, "k": {"邮箱 b@y.com": 1.5}}
    assert map_strings(metadata, redact) == {
        "回拨<PHONE>": ["<EMAIL>", 3, ["<PHONE>"]], 7: None, "k": {"邮箱 <EMAIL>": 1.5}}
    assert map_strings({"回拨13812345678": "13812345678"}, redact, keys=str.strip) == {
        "回拨13812345678": "<PHONE>"}
    # keys at every depth get ``keys``, strings at every depth ``clean`` (the pipeline redacts keys, normalizes
    # and redacts values)
    assert map_strings({"Key": {"Inner": ["Text", {"Deep": "Value"}]}}, str.lower, keys=str.upper) == {
        "KEY": {"INNER": ["text", {"DEEP": "value"}]}}
    assert map_strings("a@x.com", redact) == "<EMAIL>"
    assert map_strings(38.5, redact) == 38.5

ADVERSARIAL = {  # 1 MB each: inputs that make a backtracking pattern rescan the same characters
    "long local part with a digit": ("a" * 999 + "1") * 1000,
    "digits": "1" * 1_000_000,
    "digits with spaces": "1 " * 500_000,
    "digits with dashes": "1-" * 500_000,
    "many dots": "a." * 500_000,
    "many @": "a@" * 500_000,
    "a domain of dots": "a@" + "1." * 500_000,
    "Chinese digits": "一" * 1_000_000,
}


def test_redaction_is_linear_on_adversarial_input() -> None:
    ordinary = ("您好，订单号3040389220374355，金额38.5元，2026-10-01 13:45 送达。"
                "Thanks for calling about order 12345, call me on 021-62345678. ") * 12_000
    ordinary = ordinary[:1_000_000]

    def seconds(text: str) -> float:
        started = time.perf_counter()
        redact(text)
        return time.perf_counter() - started

    baseline = min(seconds(ordinary) for _ in range(2))
    slow = {name: round(seconds(text) / baseline, 1) for name, text in ADVERSARIAL.items()}
    assert max(slow.values()) <= 5, f"adversarial / ordinary time: {slow}"


def test_kinds_are_configurable() -> None:
    only_email = Redactor(kinds=("email",))
    assert only_email("13812345678 a@b.com") == "13812345678 <EMAIL>"
    assert Redactor(kinds=())("13812345678") == "13812345678"


def test_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown PII kinds"):
        Redactor(kinds=("passport",))
