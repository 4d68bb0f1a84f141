"""A real SIP call over 127.0.0.1: `yibao hotline serve` (PJSIP) answers, baresip calls it.

The caller presses the keys of a whole journey (普通话, balance, ID number, 医保卡密码, 家庭共济,
agent) as RFC 4733 telephone-events and records what it hears. The recording must carry speech
after every step (not silence where the menu speaks); the transcript yibao logged must hold the
right balance and the relative's payment; the call must wait in the agents' queue, identified.
A second call types a wrong card password: it counts toward the card-password lockout.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, TEST_DATA_KEY
from tests.support.hotline import FOR_PARENT_FEN, HotlineWorld, hotline_world, id_keys
from tests.support.identity import CARD_PASSWORD
from tests.support.leaks import find_leaks
from tests.support.softphone import Baresip, loudness, softphone_missing
from yibao.calls import service as calls
from yibao.config import Settings
from yibao.db.migrate import upgrade
from yibao.hotline.speech import chinese_money
from yibao.identity import card_lock
from yibao.identity import repository as identity_repository
from yibao.kernel.actors import StaffActor
from yibao.runtime import build_runtime
from yibao_bench.server import free_port

pytestmark = pytest.mark.sip

SPEECH_RMS = 300.0  # 16-bit samples: espeak at telephone level is in the thousands; silence is 0
SPEECH_SECONDS = 0.4  # at least this much speech after each step


@pytest.fixture
def line(tmp_path: Path) -> Iterator[tuple[Settings, int, Path]]:
    missing = softphone_missing()
    if missing:
        if IN_CI:
            pytest.fail(missing)
        pytest.skip(missing)
    db = tmp_path / "line.sqlite3"
    url = f"sqlite+aiosqlite:///{db}"
    upgrade(url)
    port = free_port()
    settings = Settings(
        environment="test",
        database_url=url,
        data_key=TEST_DATA_KEY,
        secret_key="line-secret-" + "z" * 20,
        var_dir=tmp_path / "var",
        _env_file=None,  # type: ignore[call-arg]
    )
    env = {
        **os.environ,
        "YIBAO_ENVIRONMENT": "development",
        "YIBAO_DATABASE_URL": url,
        "YIBAO_DATA_KEY": TEST_DATA_KEY,
        "YIBAO_SECRET_KEY": settings.secret_key,
        "YIBAO_VAR_DIR": str(tmp_path / "var"),
        "YIBAO_HOTLINE_KEY_TIMEOUT_SECONDS": "60",
    }
    log_path = tmp_path / "hotline.log"
    log = log_path.open("w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "yibao"), "hotline", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        while "SIP on" not in log_path.read_text():
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log_path.read_text())
            time.sleep(0.2)
        yield settings, port, db
        leaks = find_leaks(log_path.read_text())
        assert not leaks, "\n".join(leaks)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _seed(settings: Settings) -> HotlineWorld:
    async def work() -> HotlineWorld:
        rt = build_runtime(settings)
        try:
            return await hotline_world(rt)
        finally:
            await rt.close()

    return asyncio.run(work())


def _last_call(db: Path) -> dict[str, Any]:
    with sqlite3.connect(db) as c:
        c.row_factory = sqlite3.Row
        row = c.execute("SELECT * FROM hotline_calls ORDER BY id DESC LIMIT 1").fetchone()
    return dict(row) if row else {}


def _transcript(db: Path) -> list[dict[str, str]]:
    call = _last_call(db)
    return list(json.loads(call["transcript_json"])) if call else []


def _wait_for(db: Path, lines: int, timeout: float = 30) -> list[dict[str, str]]:
    deadline = time.monotonic() + timeout
    while True:
        said = _transcript(db)
        if len(said) >= lines and said[-1]["by"] == "ivr":
            return said
        assert time.monotonic() < deadline, f"the menu did not answer: {said}"
        time.sleep(0.1)


def _step(phone: Baresip, db: Path, keys: str, listen: float = 4.0) -> list[dict[str, str]]:
    """Press keys, wait until the menu has answered in the transcript, listen to it."""
    before = len(_transcript(db))
    phone.keys(keys)
    said = _wait_for(db, before + 2)
    time.sleep(listen)
    return said


def test_a_real_call_over_sip(line: tuple[Settings, int, Path], tmp_path: Path) -> None:
    settings, port, db = line
    w = _seed(settings)
    phone = Baresip(tmp_path / "caller")
    try:
        phone.dial(f"sip:ivr@127.0.0.1:{port}")
        _wait_for(db, 2)
        time.sleep(5)  # the welcome and the language menu
        _step(phone, db, "1")  # 普通话
        _step(phone, db, "1")  # balance: asks for the ID number
        _step(phone, db, id_keys(w.caller.id_number), listen=3)
        _step(phone, db, CARD_PASSWORD, listen=6)  # identified: the balance is read out
        _step(phone, db, "#", listen=3)
        _step(phone, db, "4", listen=8)  # 家庭共济: grants and payments
        _step(phone, db, "0", listen=3)  # an agent

        call = _last_call(db)
        assert call["identified_by"] == "keys" and call["person_id"] == w.caller.person_id
        assert call["queued_at"] is not None and call["channel"] == "sip"
        said = " ".join(line["text"] for line in _transcript(db))
        assert chinese_money(w.balance_fen) in said
        assert chinese_money(FOR_PARENT_FEN) in said and "王建国" in said
        record = json.dumps(call, ensure_ascii=False, default=str)
        assert w.caller.id_number not in record and CARD_PASSWORD not in record

        async def agent_takes() -> None:
            rt = build_runtime(settings)
            try:
                async with rt.sessions() as s:
                    waiting = await calls.waiting_calls(s)
                    assert [c.id for c in waiting] == [call["id"]]
                    agent = StaffActor(1, "李坐席", frozenset({"clerk"}), "热线中心")
                    await calls.take_call(s, rt.clock, agent, call["id"])
            finally:
                await rt.close()

        asyncio.run(agent_takes())
        phone.hangup()
        time.sleep(1)
    finally:
        phone.close()

    _assert_speech_after_every_step(phone.recording(), _last_call(db))


def _assert_speech_after_every_step(recording: Path, call: dict[str, Any]) -> None:
    """Between each answer of the menu and the caller's next key, the caller heard speech."""
    rms, frame = loudness(recording)
    started = datetime.fromisoformat(str(call["started_at"])).replace(tzinfo=UTC)  # SQLite: UTC
    said = json.loads(call["transcript_json"])
    answers = [
        i
        for i, line in enumerate(said)
        if line["by"] == "ivr" and (i == 0 or said[i - 1]["by"] != "ivr")
    ]
    assert len(answers) >= 8
    for index in answers:
        begin = datetime.fromisoformat(said[index]["at"])
        after = [line for line in said[index:] if line["by"] != "ivr"]
        end = datetime.fromisoformat(after[0]["at"]) if after else None
        first = int((begin - started).total_seconds() / frame)
        last = int((end - started).total_seconds() / frame) if end else len(rms)
        window = rms[first:last]
        loud = float((window > SPEECH_RMS).sum()) * frame
        assert loud >= SPEECH_SECONDS, (said[index]["text"], loud, first, last, len(rms))
    # and a quiet line where nothing is said: the call is not all noise
    assert float((rms <= SPEECH_RMS).sum()) * frame > 1.0


def test_a_wrong_card_password_on_the_line_counts_toward_the_lockout(
    line: tuple[Settings, int, Path], tmp_path: Path
) -> None:
    settings, port, db = line
    w = _seed(settings)
    phone = Baresip(tmp_path / "caller")
    try:
        phone.dial(f"sip:ivr@127.0.0.1:{port}")
        _wait_for(db, 2)
        _step(phone, db, "1", listen=0.5)  # barge-in: keys during the prompts
        _step(phone, db, "1", listen=0.5)
        _step(phone, db, id_keys(w.caller.id_number), listen=0.5)
        said = _step(phone, db, "000000", listen=2)
        assert "医保卡密码不正确，还可以再试4次" in said[-2]["text"] or any(
            "还可以再试4次" in line["text"] for line in said
        )
        phone.hangup()
        time.sleep(1)
    finally:
        phone.close()

    async def failures() -> int:
        rt = build_runtime(settings)
        try:
            async with rt.sessions() as s:
                account = await identity_repository.account_of_person(s, w.caller.person_id)
                assert account is not None
            return (await card_lock.lock_state(rt.ephemeral, account.id)).failed_count
        finally:
            await rt.close()

    assert asyncio.run(failures()) == 1
    call = _last_call(db)
    assert call["person_id"] is None and call["ended_at"] is not None
    assert call["end_reason"] == "hangup"


class InfoCaller:
    """tests/support/sip_info_caller.py in its own process: keys as SIP INFO."""

    def __init__(self, uri: str) -> None:
        script = Path(__file__).resolve().parents[1] / "support" / "sip_info_caller.py"
        self.process = subprocess.Popen(
            [sys.executable, str(script), uri],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.expect("confirmed")

    def expect(self, word: str) -> None:
        assert self.process.stdout is not None
        while True:
            line = self.process.stdout.readline()
            assert line, f"the SIP INFO caller ended before {word!r}"
            if line.strip() == word:
                return

    def keys(self, keys: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"keys {keys}\n")
        self.process.stdin.flush()
        self.expect("sent")

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.write("hangup\nquit\n")
            self.process.stdin.flush()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def test_keys_sent_as_sip_info_are_heard(line: tuple[Settings, int, Path]) -> None:
    settings, port, db = line
    w = _seed(settings)
    caller = InfoCaller(f"sip:ivr@127.0.0.1:{port}")
    try:
        _wait_for(db, 2)
        for keys in ("1", "1", id_keys(w.caller.id_number), CARD_PASSWORD):
            before = len(_transcript(db))
            caller.keys(keys)
            _wait_for(db, before + 2)
    finally:
        caller.close()
    said = " ".join(line["text"] for line in _transcript(db))
    assert chinese_money(w.balance_fen) in said
    assert _last_call(db)["identified_by"] == "keys"
