"""/dev/sms (issue #24, item 5) answers only in development (or test) mode, which the operator
must ask for, and only to the machine the server runs on; everywhere else it is an unknown page."""

from __future__ import annotations

import pytest

from tests.support.addresses import From
from tests.support.identity import Member
from tests.web.identity_client import post_form
from yibao.config import Settings
from yibao.runtime import Runtime


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
async def test_this_machine_reads_the_codes_in_development(
    from_address: From, li: Member, address: str
) -> None:
    async with from_address(address) as c:
        await post_form(c, "/login/code", phone=li.phone)
        page = await c.get("/dev/sms")
    assert page.status_code == 200 and "短信发件箱" in page.text


@pytest.mark.parametrize("address", ["203.0.113.7", "192.168.1.20", "10.0.0.1", "2001:db8::1"])
async def test_another_machine_finds_no_page(from_address: From, li: Member, address: str) -> None:
    async with from_address(address) as c:
        await post_form(c, "/login/code", phone=li.phone)
        page = await c.get("/dev/sms")
    assert page.status_code == 404 and "验证码" not in page.text


async def test_production_has_no_page_even_for_this_machine(
    runtime: Runtime, from_address: From, li: Member
) -> None:
    runtime.settings = runtime.settings.model_copy(update={"environment": "production"})
    async with from_address("127.0.0.1") as c:
        assert (await c.get("/dev/sms")).status_code == 404


def test_the_default_environment_is_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("YIBAO_ENVIRONMENT", raising=False)
    default = Settings(_env_file=None)  # type: ignore[call-arg]
    assert default.environment == "production" and not default.is_development
