"""Every demo credential works exactly as docs/demo.md prints it (issue #24, item 2).

The suite used to make its own staff secrets, so it stayed green while every new user's staff
sign-in answered 500: a fresh install got a pyotp that refuses the demo's 80-bit secrets. This
test reads the credentials from the document a new user reads, computes the staff codes with the
document's own `python -c` line, and signs in with each on a world made by `yibao demo`.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from tests.support.fsi import Institution
from tests.web.identity_client import post_form
from yibao.cli.main import app
from yibao.config import Settings
from yibao.identity import service as identity
from yibao.kernel.errors import InvalidInput
from yibao.runtime import Runtime

DEMO_DOC = Path(__file__).resolve().parents[2] / "docs" / "demo.md"


def _cell(doc: str, row: str) -> str:
    found = re.search(rf"^\| {re.escape(row)} \| (.+?) \|$", doc, re.M)
    assert found, f"docs/demo.md has no row {row!r}"
    return found.group(1)


def _documented_code(doc: str, secret: str) -> str:
    """The staff code from the document's own command line, run as a new user would."""
    line = re.search(r'`(python -c "import pyotp;[^`]+)`', doc)
    assert line, "docs/demo.md no longer shows how to print a code"
    example = re.search(r"TOTP\('([A-Z2-7]+)'\)", line.group(1))
    assert example
    command = line.group(1).replace(example.group(1), secret)
    argv = [sys.executable, "-c", command.split('-c "', 1)[1].rstrip('"')]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)  # noqa: S603
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


async def test_every_documented_credential_signs_in(
    cli_env: Settings, client: httpx.AsyncClient
) -> None:
    # The CLI runs its own event loop: give it a thread of its own.
    done = await asyncio.to_thread(
        CliRunner().invoke, app, ["demo", "--persons", "5", "--months", "2", "--json"]
    )
    assert done.exit_code == 0, done.output
    printed = json.loads(done.output)
    doc = DEMO_DOC.read_text(encoding="utf-8")

    # The demo person: ID number and password, then the card password for the verification step.
    id_number = _cell(doc, "ID number")
    passwords = re.findall(r"`([^`]+)`", _cell(doc, "online account"))
    assert len(passwords) == 2, passwords
    password, card_password = passwords
    signed_in = await post_form(client, "/login", identifier=id_number, password=password)
    assert signed_in.status_code == 303, signed_in.text
    verified = await post_form(
        client, "/verify/card-password", card_password=card_password, next="/account"
    )
    assert verified.status_code == 303, verified.text
    account = await client.get("/account")
    assert account.status_code == 200 and "李明" in account.text

    # The staff: each documented username with the shared password and a code from its secret.
    staff_password = re.search(r"All three use the password `([^`]+)`", doc)
    assert staff_password
    rows = re.findall(r"^\| `([a-z]+)` \| (\S+) \| [^|]+ \| `([A-Z2-7]+)` \|$", doc, re.M)
    assert [r[0] for r in rows] == ["clerk", "reviewer", "admin"]
    assert [(s["username"], s["totp_secret"]) for s in printed["staff"]] == [
        (u, t) for u, _n, t in rows
    ]
    for username, name, secret in rows:
        client.cookies.clear()
        answer = await post_form(
            client,
            "/staff/login",
            username=username,
            password=staff_password.group(1),
            totp=_documented_code(doc, secret),
        )
        assert answer.status_code == 303, (username, answer.status_code, answer.text[:300])
        home = await client.get("/staff")
        assert home.status_code == 200 and name in home.text

    # The demo institution signs in to the interface with the documented token.
    code = _cell(doc, "fixmedins_code").split()[0]
    token = _cell(doc, "paasToken")
    assert _cell(doc, "paasid") == code.lower()
    hospital = Institution(client, code, "上海市徐汇区中心医院", token, "310000")
    assert await hospital.sign_in()


@pytest.mark.parametrize("secret", ["YIBAOCLERKDEMO22", "NOT-BASE32-AT-ALL-0189"])
async def test_a_weak_or_malformed_totp_secret_is_refused(
    runtime: Runtime, session: AsyncSession, secret: str
) -> None:
    with pytest.raises(InvalidInput, match="动态口令密钥"):
        await identity.create_staff(
            runtime,
            session,
            username="clerk8",
            name="王",
            password="Staff@2026",
            roles=["clerk"],
            office="徐汇",
            totp_secret=secret,
        )
