"""Rules of 异地就医 between deployments: what a signature covers, the timestamp window, the
settle message id, the lower ratio without 备案, and the directory file."""

from __future__ import annotations

import base64
import secrets

import pytest

from yibao.crossregion.domain import (
    BadPeerMessage,
    WhenUnreachable,
    delivery_backoff_seconds,
    paid_in_full,
    settle_message_id,
    signing_text,
    unfiled_ratio,
    within_window,
)
from yibao.crossregion.service.directory import read_directory
from yibao.crossregion.signing import Signer, public_key_of, verify


def test_signature_covers_kind_sender_time_nonce_and_body() -> None:
    base = signing_text("settle", "shanghai", "100", "n1", b"{}")
    for changed in (
        signing_text("reverse", "shanghai", "100", "n1", b"{}"),
        signing_text("settle", "beijing", "100", "n1", b"{}"),
        signing_text("settle", "shanghai", "101", "n1", b"{}"),
        signing_text("settle", "shanghai", "100", "n2", b"{}"),
        signing_text("settle", "shanghai", "100", "n1", b'{"a":1}'),
    ):
        assert changed != base


def test_a_signature_verifies_with_its_key_only() -> None:
    seed = secrets.token_bytes(32)
    signer = Signer("shanghai", seed)
    headers = signer.headers("settle", 1_700_000_000, b"body")
    text = signing_text("settle", "shanghai", "1700000000", headers["x-yibao-nonce"], b"body")
    assert verify(signer.public_key, headers["x-yibao-signature"], text)
    other = public_key_of(base64.b64encode(secrets.token_bytes(32)).decode())
    assert not verify(other, headers["x-yibao-signature"], text)
    assert not verify(signer.public_key, "not base64!", text)
    assert not verify("garbage", headers["x-yibao-signature"], text)


@pytest.mark.parametrize(
    ("timestamp", "ok"),
    [
        ("1000", True),
        ("1300", True),
        ("700", True),
        ("1301", False),
        ("699", False),
        ("", False),
        ("-5", False),
        ("１０００", False),
        ("9" * 13, False),
    ],
)
def test_timestamp_window(timestamp: str, ok: bool) -> None:
    assert within_window(timestamp, 1000, 300) is ok


def test_settle_message_id_is_the_same_for_every_retry_of_a_msgid() -> None:
    msgid = "P31010400631202612071000000001"
    assert settle_message_id("shanghai", msgid) == settle_message_id("shanghai", msgid)
    assert settle_message_id("shanghai", msgid) != settle_message_id("beijing", msgid)


def test_lower_ratio_never_goes_below_zero() -> None:
    assert unfiled_ratio(9000, 2000) == 7000
    assert unfiled_ratio(1000, 2000) == 0


def test_directory_file() -> None:
    key = public_key_of(base64.b64encode(secrets.token_bytes(32)).decode())
    text = (
        '{"regions": [{"admdvs": "310000", "region_name": "上海市", "deployment": "shanghai",'
        f' "base_url": "https://sh.example", "public_key": "{key}"}},'
        ' {"admdvs": "440300", "region_name": "深圳市", "deployment": "shenzhen",'
        f' "base_url": "https://sz.example", "public_key": "{key}"}}]}}'
    )
    peers = read_directory(text, "shenzhen")
    assert [(p.admdvs, p.local) for p in peers] == [("310000", False), ("440300", True)]
    with pytest.raises(BadPeerMessage, match="base_url"):
        read_directory(text.replace("https://sh.example", "ftp://sh"), "shenzhen")
    with pytest.raises(BadPeerMessage, match="格式"):
        read_directory('{"regions": [{}]}', "shenzhen")


def test_when_unreachable_is_the_home_regions_choice_refuse_by_default() -> None:
    key = public_key_of(base64.b64encode(secrets.token_bytes(32)).decode())
    row = (
        '{"admdvs": "440300", "region_name": "深圳市", "deployment": "shenzhen",'
        f' "base_url": "https://sz.example", "public_key": "{key}"'
    )
    (plain,) = read_directory(f'{{"regions": [{row}}}]}}', "shanghai")
    assert plain.when_unreachable == WhenUnreachable.REFUSE
    (cash,) = read_directory(f'{{"regions": [{row}, "when_unreachable": "cash"}}]}}', "shanghai")
    assert cash.when_unreachable == WhenUnreachable.CASH
    with pytest.raises(BadPeerMessage, match="格式"):
        read_directory(f'{{"regions": [{row}, "when_unreachable": "later"}}]}}', "shanghai")


def test_paid_in_full_is_the_whole_bill_in_cash() -> None:
    assert paid_in_full(6700) == {
        "act_pay_dedc_fen": 0,
        "fund_pay_fen": 0,
        "acct_pay_fen": 0,
        "cash_pay_fen": 6700,
        "balc_fen": 0,
    }


def test_a_record_is_offered_again_ever_more_slowly_but_at_least_every_ten_minutes() -> None:
    waits = [delivery_backoff_seconds(n) for n in range(1, 12)]
    assert waits[:3] == [15, 30, 60]
    assert waits == sorted(waits) and max(waits) == 600
