"""The SIP adapter: answers calls itself on a real SIP/RTP stack (PJSIP, through the `pjsua2`
bindings of the `pjsua2-python` wheel), plays the menu's speech and receives keys sent as RFC 4733
telephone-events or as SIP INFO (application/dtmf-relay), which PJSIP reports alike.

Two threads meet here. PJSIP runs in one thread of its own (`SipStack`): it is created, polled
and told what to do only there, with no worker threads of its own and the null sound device, so
it needs no sound card. The calls run in asyncio (`SipHotline`): each call has a queue of what
the line reported (answered, a key, the end of a prompt, a hang-up) and a task that takes them in
order, runs the menu through the driver, makes the speech and tells the stack to play it. A key
pressed while a prompt plays stops the prompt (barge-in) and counts as input; a prompt that ends
starts the wait for a key (silence after `hotline_key_timeout_seconds`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import shutil
import signal
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pjsua2 as pj

from yibao.hotline.driver import CallDriver
from yibao.hotline.ivr import CallState, Event, EventKind, Expect, Reply
from yibao.hotline.tts import CommandSpeech
from yibao.runtime import Runtime

log = logging.getLogger(__name__)

Report = tuple[Any, ...]  # ("incoming"|"digit"|"eof"|"gone", call id, …) from the stack


class _Player(pj.AudioMediaPlayer):  # type: ignore[misc]
    def __init__(self, stack: SipStack, call_id: int, generation: int) -> None:
        super().__init__()
        self.stack, self.call_id, self.generation = stack, call_id, generation

    def onEof2(self) -> None:
        self.stack.report(("eof", self.call_id, self.generation))


class _Call(pj.Call):  # type: ignore[misc]
    def __init__(self, stack: SipStack, account: pj.Account, call_id: int) -> None:
        super().__init__(account, call_id)
        self.stack = stack
        self.key = call_id
        self.media: pj.AudioMedia | None = None
        self.player: _Player | None = None
        self.pending: tuple[str, int] | None = None

    def onCallState(self, prm: Any) -> None:
        if self.getInfo().state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.stack.report(("gone", self.key))

    def onCallMediaState(self, prm: Any) -> None:
        info = self.getInfo()
        for index, media in enumerate(info.media):
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                self.media = self.getAudioMedia(index)
        if self.media is not None and self.pending is not None:
            path, generation = self.pending
            self.pending = None
            self.stack.play_now(self, path, generation)

    def onDtmfDigit(self, prm: Any) -> None:
        self.stack.report(("digit", self.key, str(prm.digit)))


class _Account(pj.Account):  # type: ignore[misc]
    def __init__(self, stack: SipStack) -> None:
        super().__init__()
        self.stack = stack

    def onIncomingCall(self, prm: Any) -> None:
        call = _Call(self.stack, self, prm.callId)
        self.stack.calls[prm.callId] = call
        remote = call.getInfo().remoteUri
        answer = pj.CallOpParam()
        answer.statusCode = 200
        call.answer(answer)
        self.stack.report(("incoming", prm.callId, remote))


class SipStack:
    """PJSIP in a thread of its own; `tell` queues a command for that thread."""

    def __init__(self, host: str, port: int, report: Any) -> None:
        self.host, self.port = host, port
        self.report = report
        self.calls: dict[int, _Call] = {}
        self.commands: queue.Queue[Report] = queue.Queue()
        self.ready = threading.Event()
        self.failed: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="sip", daemon=True)

    def start(self) -> None:
        self.thread.start()
        self.ready.wait(30)
        if self.failed is not None:
            raise self.failed
        if not self.ready.is_set():
            raise RuntimeError("the SIP stack did not start")

    def stop(self) -> None:
        self.commands.put(("quit",))
        self.thread.join(10)

    def tell(self, *command: Any) -> None:
        self.commands.put(command)

    def play_now(self, call: _Call, path: str, generation: int) -> None:
        self._stop_player(call)
        player = _Player(self, call.key, generation)
        player.createPlayer(path, pj.PJMEDIA_FILE_NO_LOOP)
        assert call.media is not None
        player.startTransmit(call.media)
        call.player = player

    def _stop_player(self, call: _Call) -> None:
        if call.player is not None and call.media is not None:
            with contextlib.suppress(pj.Error):
                call.player.stopTransmit(call.media)
        call.player = None

    def _command(self, command: Report) -> bool:
        what = command[0]
        if what == "quit":
            return False
        call = self.calls.get(command[1])
        if call is None:
            return True
        if what == "play":
            if call.media is None:
                call.pending = (command[2], command[3])
            else:
                self.play_now(call, command[2], command[3])
        elif what == "stop":
            self._stop_player(call)
        elif what == "hangup":
            self._stop_player(call)
            with contextlib.suppress(pj.Error):
                call.hangup(pj.CallOpParam())
        elif what == "forget":
            self._stop_player(call)
            del self.calls[command[1]]
        return True

    def _run(self) -> None:
        endpoint = pj.Endpoint()
        try:
            endpoint.libCreate()
            config = pj.EpConfig()
            config.uaConfig.threadCnt = 0  # polled here: every callback runs in this thread
            config.uaConfig.userAgent = "yibao-hotline"
            # Errors only: from level 3 PJSIP logs each key it receives, and a key may be part
            # of a card password.
            config.logConfig.level = 1
            config.logConfig.consoleLevel = 1
            config.medConfig.clockRate = 8000
            config.medConfig.sndClockRate = 8000
            # Send every frame, silence too: a line that goes quiet between prompts must not
            # look like a dropped call to the far end (nor skip time in its recording).
            config.medConfig.noVad = True
            endpoint.libInit(config)
            transport = pj.TransportConfig()
            transport.port = self.port
            transport.boundAddress = self.host
            endpoint.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport)
            endpoint.audDevManager().setNullDev()
            endpoint.libStart()
            account = _Account(self)
            account_config = pj.AccountConfig()
            account_config.idUri = f"sip:ivr@{self.host}:{self.port}"
            account_config.mediaConfig.transportConfig.boundAddress = self.host
            account_config.mediaConfig.transportConfig.port = self.port + 10000
            account_config.mediaConfig.transportConfig.portRange = 200
            account.create(account_config)
        except BaseException as exc:
            self.failed = exc
            self.ready.set()
            return
        self.ready.set()
        running = True
        while running:
            try:
                while running:
                    running = self._command(self.commands.get_nowait())
            except queue.Empty:
                pass
            endpoint.libHandleEvents(10)
        endpoint.hangupAllCalls()
        for _ in range(20):
            endpoint.libHandleEvents(10)
        self.calls.clear()
        del account
        endpoint.libDestroy()


@dataclass
class _Line:
    """One call as asyncio sees it."""

    key: int
    caller: str
    events: asyncio.Queue[Report] = field(default_factory=asyncio.Queue)
    call_ref: str = ""
    state_json: str = ""
    expect: Expect = Expect.NOTHING
    max_keys: int = 0
    typed: str = ""
    generation: int = 0
    playing: bool = False
    hang_up_after: bool = False
    ended: bool = False
    waiting: int = 0  # the generation of the current wait for a key
    scratch: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="yibao-call-")))


class SipHotline:
    def __init__(self, rt: Runtime, speech: CommandSpeech) -> None:
        self.rt = rt
        self.speech = speech
        self.driver = CallDriver(rt, "sip")
        self.lines: dict[int, _Line] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stack = SipStack(
            rt.settings.hotline_sip_host, rt.settings.hotline_sip_port, self._report
        )
        self.tasks: set[asyncio.Task[None]] = set()

    def _report(self, report: Report) -> None:
        """Called in the SIP thread: hand the report to asyncio."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._dispatch, report)

    def _dispatch(self, report: Report) -> None:
        key = report[1]
        if report[0] == "incoming":
            self.lines[key] = _Line(key=key, caller=str(report[2]))
            task = asyncio.get_running_loop().create_task(self._serve(self.lines[key]))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        line = self.lines.get(key)
        if line is not None:
            line.events.put_nowait(report)

    async def run(self, stop: asyncio.Event) -> None:
        self.loop = asyncio.get_running_loop()
        self.stack.start()
        log.info(
            "hotline: SIP on %s:%s",
            self.rt.settings.hotline_sip_host,
            self.rt.settings.hotline_sip_port,
        )
        try:
            await stop.wait()
        finally:
            self.stack.stop()
            for task in list(self.tasks):
                task.cancel()

    # --- one call ------------------------------------------------------------------------------

    async def _serve(self, line: _Line) -> None:
        try:
            while True:  # until the line reports the call gone, whoever hung up
                report = await line.events.get()
                await self._handle(line, report)
                if report[0] == "gone":
                    break
        except Exception:
            log.exception("hotline: a SIP call failed")
            self.stack.tell("hangup", line.key)
        finally:
            shutil.rmtree(line.scratch, ignore_errors=True)
            self.stack.tell("forget", line.key)
            self.lines.pop(line.key, None)

    async def _handle(self, line: _Line, report: Report) -> None:
        what = report[0]
        if what == "incoming":
            started = await self.driver.start(line.caller)
            line.call_ref, line.state_json = started.call_ref, started.state_json
            await self._say(line, started.reply)
        elif what == "digit":
            await self._key(line, str(report[2]))
        elif what == "eof" and report[2] == line.generation and line.playing:
            line.playing = False
            if line.hang_up_after:
                line.ended = True
                self.stack.tell("hangup", line.key)
            else:
                self._wait_for_key(line)
        elif what == "timeout" and report[2] == line.waiting and not line.playing:
            if line.typed:
                await self._step(line, Event(EventKind.KEYS, line.typed))
            else:
                await self._step(line, Event(EventKind.SILENCE))
        elif what == "gone":
            line.waiting += 1
            if line.call_ref and not line.ended:
                await self._step(line, Event(EventKind.HANGUP))
            line.ended = True

    async def _key(self, line: _Line, key: str) -> None:
        if line.ended or not line.call_ref:
            return
        if line.playing:  # barge-in: the prompt stops, the key counts
            line.playing = False
            self.stack.tell("stop", line.key)
        line.waiting += 1
        if line.expect in (Expect.KEY, Expect.NOTHING):
            await self._step(line, Event(EventKind.KEYS, key))
            return
        if not line.typed and key == "#":
            await self._step(line, Event(EventKind.KEYS, "#"))
            return
        line.typed += key
        if len(line.typed) >= line.max_keys:
            await self._step(line, Event(EventKind.KEYS, line.typed))
        else:
            self._wait_for_key(line)

    async def _step(self, line: _Line, event: Event) -> None:
        line.typed = ""
        line.state_json, reply = await self.driver.step(
            line.call_ref, line.state_json, event, line.caller
        )
        if event.kind != EventKind.HANGUP:
            await self._say(line, reply)

    async def _say(self, line: _Line, reply: Reply) -> None:
        line.expect, line.max_keys, line.typed = reply.expect, reply.max_keys, ""
        line.hang_up_after = reply.hangup
        if not reply.say:
            if reply.hangup:
                line.ended = True
                self.stack.tell("hangup", line.key)
            return
        language = CallState.from_json(line.state_json).language if line.state_json else "zh"
        path = await self.speech.reply(reply.say, language, line.scratch)
        line.generation += 1
        line.playing = True
        self.stack.tell("play", line.key, str(path), line.generation)

    def _wait_for_key(self, line: _Line) -> None:
        line.waiting += 1
        token = line.waiting
        timeout = self.rt.settings.hotline_key_timeout_seconds

        async def later() -> None:
            await asyncio.sleep(timeout)
            line.events.put_nowait(("timeout", line.key, token))

        task = asyncio.get_running_loop().create_task(later())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


def serve(rt: Runtime) -> None:
    """`yibao hotline serve`: answer SIP calls until interrupted."""
    speech = CommandSpeech(rt.settings.var_dir / "hotline" / "tts", rt.settings.hotline_tts_command)
    hotline = SipHotline(rt, speech)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await hotline.run(stop)
        finally:
            await rt.close()

    asyncio.run(main())
