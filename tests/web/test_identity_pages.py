"""Identity pages through the app: registration, sign-in, step-up, CSRF, cookies, sign-out."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.identity import CARD_PASSWORD, PASSWORD, Member, last_code, member
from tests.support.world import define_regions, enrol, new_id_number, new_phone
from tests.web.identity_client import csrf_token, hidden, post_form
from yibao.runtime import Runtime
from yibao.web.app import create_app


@pytest.fixture
async def li(runtime: Runtime, session: AsyncSession) -> Member:
    return await member(runtime, session, name="李华")


async def sign_in(
    client: httpx.AsyncClient, identifier: str, password: str = PASSWORD
) -> httpx.Response:
    return await post_form(
        client, "/login", identifier=identifier, password=password, next="/passkeys"
    )


async def test_registration_pages(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    await define_regions(session)
    id_number, phone = new_id_number(), new_phone()
    await enrol(runtime, session, name="周敏", id_number=id_number, phone=phone)
    await session.commit()

    page = await client.get("/register")
    assert page.status_code == 200 and "获取验证码" in page.text
    sent = await post_form(client, "/register/code", phone=phone)
    assert "验证码已发送至" in sent.text and "ticket" not in sent.text
    code = await last_code(session)

    weak = await post_form(
        client,
        "/register/password",
        phone=phone,
        code=code,
        password="abcdefgh1",
        password2="abcdefgh1",
    )
    assert weak.status_code == 422 and "密码须包含符号" in weak.text
    mismatch = await post_form(
        client,
        "/register/password",
        phone=phone,
        code=code,
        password="Zhou#2026",
        password2="Zhou#2027",
    )
    assert "两次输入的密码不一致" in mismatch.text
    step3 = await post_form(
        client,
        "/register/password",
        phone=phone,
        code=code,
        password="Zhou#2026",
        password2="Zhou#2026",
    )
    assert step3.status_code == 200 and "实名认证" in step3.text
    ticket = hidden(step3.text, "ticket")

    wrong_id = await post_form(
        client,
        "/register/realname",
        ticket=ticket,
        name="周敏",
        id_number=id_number[:-1] + "0" if id_number[-1] != "0" else id_number[:-1] + "1",
        method="face",
    )
    assert wrong_id.status_code == 422 and "校验位" in wrong_id.text
    not_enrolled = await post_form(
        client,
        "/register/realname",
        ticket=ticket,
        name="周敏",
        id_number=new_id_number(),
        method="face",
    )
    assert "不匹配" in not_enrolled.text
    done = await post_form(
        client,
        "/register/realname",
        ticket=ticket,
        name="周敏",
        id_number=id_number,
        method="face",
    )
    assert done.status_code == 303 and done.headers["location"] == "/passkeys?welcome=1"
    cookie = done.headers["set-cookie"]
    assert "yibao_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in the test; see the HTTPS test below
    welcome = await client.get("/passkeys?welcome=1")
    assert "注册成功" in welcome.text and "周敏" in welcome.text
    assert 'action="/logout"' in welcome.text  # the top bar's sign-out


async def test_every_form_post_needs_the_csrf_token(client: httpx.AsyncClient, li: Member) -> None:
    await csrf_token(client)
    missing = await client.post("/login", data={"identifier": li.phone, "password": PASSWORD})
    assert missing.status_code == 403 and "页面已过期" in missing.text
    forged = await client.post(
        "/login", data={"identifier": li.phone, "password": PASSWORD, "csrf_token": "x" * 32}
    )
    assert forged.status_code == 403
    assert (await sign_in(client, li.phone)).status_code == 303
    # Signed in, a forged post still changes nothing.
    out = await client.post("/logout", data={"csrf_token": "nope"})
    assert out.status_code == 403
    assert (await client.get("/passkeys")).status_code == 200


async def test_cookies_are_secure_over_https(runtime: Runtime, li: Member) -> None:
    app = create_app(runtime=runtime)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://testserver"
    ) as https:
        response = await sign_in(https, li.phone)
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]


async def test_sign_in_step_up_and_sign_out(client: httpx.AsyncClient, li: Member) -> None:
    first = await client.get("/security")
    assert first.status_code == 303 and first.headers["location"] == "/login?next=/security"
    assert (await sign_in(client, li.id_number)).headers["location"] == "/passkeys"
    gated = await client.get("/security")
    assert gated.status_code == 303 and gated.headers["location"] == "/verify?next=/security"
    verify = await client.get("/verify?next=/security")
    assert "短信验证码" in verify.text and "医保卡密码" in verify.text
    bad = await post_form(client, "/verify/card-password", card_password="000000", next="/security")
    assert bad.status_code == 422 and "还可尝试4次" in bad.text
    ok = await post_form(
        client, "/verify/card-password", card_password=CARD_PASSWORD, next="/security"
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/security"
    page = await client.get("/security")
    assert page.status_code == 200 and "李*" not in page.text and "李华" in page.text
    assert li.id_number not in page.text and li.id_number[:3] + "*" in page.text
    assert "身份验证通过" in page.text and "登录成功" in page.text

    out = await post_form(client, "/logout")
    assert out.status_code == 303 and out.headers["location"] == "/login?signed_out=1"
    assert (await client.get("/passkeys")).status_code == 303


async def test_step_up_by_sms_code(
    client: httpx.AsyncClient, li: Member, session: AsyncSession
) -> None:
    await sign_in(client, li.phone)
    sent = await post_form(client, "/verify/code", next="/security")
    assert "验证码已发送至" in sent.text
    ok = await post_form(client, "/verify/sms", code=await last_code(session), next="/security")
    assert ok.headers["location"] == "/security"
    assert (await client.get("/security")).status_code == 200


async def test_sms_sign_in(client: httpx.AsyncClient, li: Member, session: AsyncSession) -> None:
    sent = await post_form(client, "/login/code", phone=li.phone, next="/passkeys")
    assert "验证码已发送" in sent.text
    done = await post_form(
        client, "/login/sms", phone=li.phone, code=await last_code(session), next="/passkeys"
    )
    assert done.status_code == 303 and done.headers["location"] == "/passkeys"


async def test_lockout_page_answers_as_a_wrong_password(
    client: httpx.AsyncClient, li: Member
) -> None:
    for _ in range(5):
        wrong = await sign_in(client, li.phone, "Wrong@2026")
        assert wrong.status_code == 401 and "账号或密码错误" in wrong.text
    held_back = await sign_in(client, li.phone)
    assert held_back.status_code == 401 and "可改用短信验证码登录" in held_back.text
    unknown = await sign_in(client, "13911112222", "Wrong@2026")
    assert "账号或密码错误" in unknown.text


async def test_forgot_password_resets_and_unlocks(
    client: httpx.AsyncClient, li: Member, session: AsyncSession
) -> None:
    for _ in range(5):
        await sign_in(client, li.phone, "Wrong@2026")
    sent = await post_form(client, "/forgot/code", id_number=li.id_number)
    assert "验证码已发送至" in sent.text
    done = await post_form(
        client,
        "/forgot",
        id_number=li.id_number,
        code=await last_code(session),
        password="Fresh#2026",
        password2="Fresh#2026",
    )
    assert "密码已重置" in done.text
    assert (await sign_in(client, li.phone, "Fresh#2026")).status_code == 303


async def test_no_open_redirect_after_sign_in(client: httpx.AsyncClient, li: Member) -> None:
    response = await post_form(
        client, "/login", identifier=li.phone, password=PASSWORD, next="//evil.example/x"
    )
    assert response.headers["location"] == "/"


async def test_sign_out_everywhere(runtime: Runtime, li: Member) -> None:
    app = create_app(runtime=runtime)
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        for _ in range(2)
    ]
    try:
        for c in clients:
            await sign_in(c, li.phone)
        phone_a, phone_b = clients
        await post_form(phone_a, "/verify/card-password", card_password=CARD_PASSWORD)
        out = await post_form(phone_a, "/logout/everywhere")
        assert out.headers["location"] == "/login?signed_out=1"
        assert (await phone_b.get("/passkeys")).status_code == 303
    finally:
        for c in clients:
            await c.aclose()


async def test_dev_sms_page_only_in_development(
    client: httpx.AsyncClient, li: Member, runtime: Runtime, session: AsyncSession
) -> None:
    await post_form(client, "/login/code", phone=li.phone)
    page = await client.get("/dev/sms")
    assert page.status_code == 200 and "验证码为" in page.text and li.phone not in page.text
    runtime.settings = runtime.settings.model_copy(update={"environment": "production"})
    assert (await client.get("/dev/sms")).status_code == 404


async def test_card_password_page(
    client: httpx.AsyncClient, li: Member, session: AsyncSession
) -> None:
    await sign_in(client, li.phone)
    page = await client.get("/card-password")
    assert "获取验证码" in page.text
    await post_form(client, "/card-password/code")
    done = await post_form(
        client,
        "/card-password",
        id_number=li.id_number,
        code=await last_code(session),
        card_password="864209",
        card_password2="864209",
    )
    assert "医保卡密码已设置" in done.text
    ok = await post_form(client, "/verify/card-password", card_password="864209")
    assert ok.status_code == 303


@pytest.fixture
async def staff_client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime=runtime)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as c:
        yield c


async def test_staff_sign_in_with_totp(
    staff_client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, li: Member
) -> None:
    import pyotp

    from yibao.identity import service as identity

    _, secret = await identity.create_staff(
        runtime,
        session,
        username="clerk1",
        name="王晓红",
        password="Staff@2026",
        roles=["clerk"],
        office="徐汇医保中心",
    )
    gate = await staff_client.get("/staff")
    assert gate.status_code == 303 and gate.headers["location"] == "/staff/login?next=/staff"
    wrong = await post_form(
        staff_client, "/staff/login", username="clerk1", password="Staff@2026", totp="000000"
    )
    assert wrong.status_code == 401 and "动态口令" in wrong.text
    ok = await post_form(
        staff_client,
        "/staff/login",
        username="clerk1",
        password="Staff@2026",
        totp=pyotp.TOTP(secret).now(),
    )
    assert ok.status_code == 303 and "yibao_staff=" in ok.headers["set-cookie"]
    home = await staff_client.get("/staff")
    assert home.status_code == 200 and "王晓红" in home.text and "经办人员" in home.text
    # The staff cookie is no person's session.
    assert (await staff_client.get("/passkeys")).status_code == 303


async def test_roles_gate_staff_routes(runtime: Runtime, session: AsyncSession) -> None:
    import pyotp
    from fastapi import Depends

    from yibao.identity import service as identity
    from yibao.web.auth import StaffPrincipal, require_role

    app = create_app(runtime=runtime)

    @app.get("/staff/test-admin-only")
    async def admin_only(staff: StaffPrincipal = Depends(require_role("admin"))) -> dict[str, str]:
        return {"who": staff.username}

    _, secret = await identity.create_staff(
        runtime,
        session,
        username="clerk2",
        name="赵经办",
        password="Staff@2026",
        roles=["clerk"],
        office="徐汇",
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as c:
        await post_form(
            c,
            "/staff/login",
            username="clerk2",
            password="Staff@2026",
            totp=pyotp.TOTP(secret).now(),
        )
        refused = await c.get("/staff/test-admin-only")
        assert refused.status_code == 403 and "无权" in refused.text
