"""A scripted caller: Debian's baresip, driven over its ctrl_tcp socket, dialling the hotline on
127.0.0.1 with no registrar. It sends keys as RFC 4733 telephone-events, plays silence into the
call (aufile) and records what it hears (sndfile: dump-…-dec.wav)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

from yibao_bench.server import free_port

MODULES = Path("/usr/lib/baresip/modules")


def softphone_missing() -> str | None:
    for tool in ("baresip", "espeak-ng", "sox"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (scripts/test installs baresip espeak-ng sox)"
    return None


class Baresip:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.records = home / "rec"
        self.records.mkdir(parents=True, exist_ok=True)
        self.ctrl = free_port()
        sip = free_port()
        silence = home / "silence.wav"
        subprocess.run(
            ["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(silence), "trim", "0", "300"],
            check=True,
        )
        (home / "config").write_text(
            "\n".join(
                [
                    "poll_method epoll",
                    f"sip_listen 127.0.0.1:{sip}",
                    "audio_player aubridge,nil",
                    "audio_alert aubridge,nil",
                    f"audio_source aufile,{silence}",
                    f"module_path {MODULES}",
                    "module g711.so",
                    "module aufile.so",
                    "module aubridge.so",
                    "module sndfile.so",
                    "module_app account.so",
                    "module_app menu.so",
                    "module_app ctrl_tcp.so",
                    f"ctrl_tcp_listen 127.0.0.1:{self.ctrl}",
                    f"snd_path {self.records}",
                    "",
                ]
            )
        )
        (home / "accounts").write_text("<sip:caller@127.0.0.1>;regint=0;audio_codecs=PCMU\n")
        self.log = (home / "baresip.log").open("w")
        self.process = subprocess.Popen(
            ["baresip", "-f", str(home)], stdout=self.log, stderr=subprocess.STDOUT, cwd=home
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.ctrl), timeout=1).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((home / "baresip.log").read_text()) from None
                time.sleep(0.2)

    def command(self, name: str, params: str = "") -> dict[str, Any]:
        body = json.dumps({"command": name, "params": params, "token": name}).encode()
        with socket.create_connection(("127.0.0.1", self.ctrl), timeout=5) as s:
            s.sendall(str(len(body)).encode() + b":" + body + b",")
            buffer = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    raise RuntimeError(f"baresip closed the control socket ({name})")
                buffer += chunk
                while b":" in buffer:
                    size, rest = buffer.split(b":", 1)
                    length = int(size)
                    if len(rest) < length + 1:
                        break
                    message = json.loads(rest[:length])
                    buffer = rest[length + 1 :]
                    if message.get("response"):
                        return dict(message)

    def dial(self, uri: str) -> None:
        assert self.command("dial", uri)["ok"]

    def keys(self, keys: str, gap: float = 0.25) -> None:
        for key in keys:
            assert self.command("sndcode", key)["ok"]
            time.sleep(gap)

    def hangup(self) -> None:
        self.command("hangup")

    def close(self) -> None:
        try:
            self.command("quit")
            self.process.wait(timeout=10)
        except (OSError, RuntimeError, subprocess.TimeoutExpired):
            self.process.kill()
        self.log.close()

    def recording(self) -> Path:
        found = sorted(self.records.glob("dump-*-dec.wav"), key=lambda p: p.stat().st_mtime)
        assert found, "baresip recorded nothing"
        return found[-1]


def loudness(path: Path, frame_ms: int = 20) -> tuple[np.ndarray[Any, Any], float]:
    """RMS of each frame of a recording, and the frame length in seconds."""
    with wave.open(str(path), "rb") as w:
        rate = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
        if w.getnchannels() > 1:
            samples = samples[:: w.getnchannels()]
    size = rate * frame_ms // 1000
    usable = len(samples) // size * size
    frames = samples[:usable].reshape(-1, size)
    return np.sqrt((frames**2).mean(axis=1)), frame_ms / 1000
