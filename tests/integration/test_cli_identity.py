"""yibao staff create, users unlock, sms list, and the demo's ready-to-use credentials."""

from __future__ import annotations

import json

import pyotp
from typer.testing import CliRunner

from yibao.cli.demo import DEMO_ID_NUMBER, DEMO_PHONE
from yibao.cli.main import app
from yibao.config import Settings

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_demo_gives_the_demo_person_an_account_and_staff(cli_env: Settings) -> None:
    code, out = invoke("demo", "--persons", "5", "--months", "2", "--json")
    assert code == 0, out
    demo = json.loads(out)
    assert demo["demo_person"]["password"] == "Yibao@2026"
    assert [s["username"] for s in demo["staff"]] == ["clerk", "reviewer", "admin"]
    assert demo["staff"][0]["totp_secret"] == "YIBAOCLERKDEMOTOTPSECRETONLY2TRY"
    # A locked demo account is unlocked from the command line, by ID number or phone.
    code, out = invoke("users", "unlock", DEMO_ID_NUMBER)
    assert code == 0 and "138****8000" in out
    code, out = invoke("users", "unlock", DEMO_PHONE)
    assert code == 0


def test_staff_create_prints_the_totp_secret_once(cli_env: Settings) -> None:
    code, out = invoke(
        "staff",
        "create",
        "li.na",
        "--name",
        "李娜",
        "--role",
        "reviewer",
        "--role",
        "clerk",
        "--password",
        "Review@2026",
        "--json",
    )
    assert code == 0, out
    created = json.loads(out)
    assert created["roles"] == ["clerk", "reviewer"]
    assert pyotp.TOTP(created["totp_secret"]).now().isdigit()
    assert created["totp_uri"].startswith("otpauth://totp/")
    code, out = invoke(
        "staff", "create", "li.na", "--name", "李娜", "--role", "clerk", "--password", "Review@2026"
    )
    assert code == 2 and "已存在" in out
    code, out = invoke(
        "staff", "create", "wang", "--name", "王", "--role", "boss", "--password", "Review@2026"
    )
    assert code == 2 and "未知岗位" in out
    code, out = invoke(
        "staff", "create", "wang", "--name", "王", "--role", "clerk", "--password", "weak"
    )
    assert code == 2 and "密码太短" in out


def test_users_unlock_unknown_and_sms_list(cli_env: Settings) -> None:
    code, out = invoke("users", "unlock", "13912345678")
    assert code == 2 and "找不到" in out
    code, out = invoke("sms", "list", "--json")
    assert code == 0 and json.loads(out) == []
    code, out = invoke("sms", "list")
    assert code == 0 and "没有短信" in out
