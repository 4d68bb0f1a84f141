"""Rules of the open API: redirect URIs, scopes, PKCE, idle grants, masking, and how a partner's
read reads on 查询记录."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from yibao.audit.domain import lookup_line
from yibao.partners.domain import (
    AccessDenied,
    InvalidGrant,
    InvalidPartner,
    InvalidRequest,
    InvalidScope,
    check_code_challenge,
    check_code_verifier,
    check_redirect_uri,
    chosen_scopes,
    grant_is_live,
    masked_psn_no,
    requested_scopes,
)

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "uri",
    ["https://alipay.example/cb", "http://localhost:8765/callback", "http://127.0.0.1/cb?x=1"],
)
def test_https_or_loopback_redirects_are_accepted(uri: str) -> None:
    assert check_redirect_uri(uri) == uri


@pytest.mark.parametrize(
    "uri",
    [
        "http://alipay.example/cb",
        "https://alipay.example/cb#x",
        "https://a@alipay.example/cb",
        "https://alipay.example/c b",
        "ftp://alipay.example/cb",
        "https:///cb",
        "https://alipay.example:99999/cb",
    ],
)
def test_other_redirects_are_refused(uri: str) -> None:
    with pytest.raises(InvalidPartner):
        check_redirect_uri(uri)


def test_scopes_are_the_registered_ones_and_the_person_chooses_among_them() -> None:
    assert requested_scopes("", ["records", "balance"]) == ["balance", "records"]
    assert requested_scopes("records", ["records", "balance"]) == ["records"]
    with pytest.raises(InvalidScope):
        requested_scopes("family", ["balance"])
    with pytest.raises(InvalidScope):
        requested_scopes("balance admin", ["balance"])
    assert chosen_scopes(["balance", "records"], ["records", "family"]) == ["records"]
    with pytest.raises(AccessDenied):
        chosen_scopes(["balance"], [])


def test_pkce_is_s256_only_with_rfc_7636_lengths() -> None:
    good = "a" * 43
    assert check_code_challenge(good, "S256") == good
    for challenge, method in (
        (good, "plain"),
        (good, None),
        ("a" * 42, "S256"),
        ("é" * 43, "S256"),
    ):
        with pytest.raises(InvalidRequest):
            check_code_challenge(challenge, method)
    for verifier in (None, "", "a" * 129, "a" * 42 + "!"):
        with pytest.raises(InvalidGrant):
            check_code_verifier(verifier)


def test_a_grant_ends_180_days_after_its_last_use() -> None:
    given = NOW - timedelta(days=300)
    assert grant_is_live(given, NOW - timedelta(days=179), None, NOW)
    assert not grant_is_live(given, NOW - timedelta(days=180), None, NOW)
    assert not grant_is_live(NOW - timedelta(days=181), None, None, NOW)
    assert not grant_is_live(NOW, None, NOW, NOW)


def test_psn_no_is_masked() -> None:
    assert masked_psn_no("310100123456789012") == "310100********9012"
    assert "123456" not in masked_psn_no("310100123456789012")


def test_a_partner_read_names_the_partner_and_what_it_read() -> None:
    line = lookup_line(
        1, NOW, "partner", "支付宝", "partner", "蚂蚁", "partner.read", "consumption"
    )
    assert line.action_name == "支付宝 读取了你的消费记录" and line.who == "支付宝"
