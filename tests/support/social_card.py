"""A virtual social-security card in a real PC/SC stack: a small program speaking vpcd's socket
protocol (the vsmartcard project's virtual reader driver that pcscd loads), so pyscard in the
kiosk's bridge talks to pcscd exactly as with a card in a USB reader. Inserting the card is
connecting to vpcd; removing it is closing the socket.

vpcd's protocol: every message is a 2-byte big-endian length and its bytes. One byte is a
control (0 power off, 1 power on, 2 reset, 4 "send your ATR"); anything longer is a command APDU,
answered with the response APDU. The card answers like a 社会保障卡: SELECT of the SSSE by its name,
SELECT of EF05/EF06, READ RECORD by tag (tag, length, value); `social=False` makes a card that
is something else (every SELECT answers 6A82)."""

from __future__ import annotations

import shutil
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

from yibao.web.kiosk.bridge.card import SSSE_NAME

VPCD_PORT = 35963
ATR = bytes.fromhex("3b8880010000000000000000")  # any plausible ATR
OK = b"\x90\x00"


def _an(value: str, size: int) -> bytes:
    return value.encode("ascii").ljust(size, b"\x00")


class VirtualSocialCard:
    def __init__(
        self, card_no: str = "", ssn: str = "", name: str = "", *, social: bool = True
    ) -> None:
        self.social = social
        self.files: dict[bytes, dict[int, bytes]] = {
            b"\xef\x05": {0x01: _an("310000D15600000500", 16), 0x07: _an(card_no, 9)},
            b"\xef\x06": {0x08: _an(ssn, 18), 0x09: name.encode("gbk").ljust(30, b"\x00")},
        }
        self.selected: dict[int, bytes] | None = None
        self.in_ssse = False
        self.sock: socket.socket | None = None
        self.thread: threading.Thread | None = None

    def answer(self, apdu: bytes) -> bytes:
        if len(apdu) < 4:
            return b"\x67\x00"
        ins, p1, p2 = apdu[1], apdu[2], apdu[3]
        data = apdu[5 : 5 + apdu[4]] if len(apdu) > 5 else b""
        if ins == 0xA4 and p1 == 0x04:
            self.in_ssse = self.social and data == SSSE_NAME
            return OK if self.in_ssse else b"\x6a\x82"
        if ins == 0xA4 and p1 in (0x00, 0x02):
            if data == b"\x3f\x00":
                return OK
            found = self.files.get(data) if self.in_ssse else None
            self.selected = found
            return OK if found is not None else b"\x6a\x82"
        if ins == 0xB2 and p2 == 0x00:
            if self.selected is None or p1 not in self.selected:
                return b"\x6a\x83"
            value = self.selected[p1]
            return bytes([p1, len(value)]) + value + OK
        return b"\x6d\x00"

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                head = sock.recv(2)
                if len(head) < 2:
                    return
                (size,) = struct.unpack("!H", head)
                message = b""
                while len(message) < size:
                    part = sock.recv(size - len(message))
                    if not part:
                        return
                    message += part
                if size == 1:
                    if message[0] == 4:
                        sock.sendall(struct.pack("!H", len(ATR)) + ATR)
                    elif message[0] in (0, 2):
                        self.selected, self.in_ssse = None, False
                    continue
                reply = self.answer(message)
                sock.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:
            return

    def insert(self, port: int = VPCD_PORT) -> None:
        deadline = time.monotonic() + 20
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.sock.settimeout(None)
        self.thread = threading.Thread(target=self._serve, args=(self.sock,), daemon=True)
        self.thread.start()

    def remove(self) -> None:
        if self.sock is not None:
            self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()
            self.sock = None
        if self.thread is not None:
            self.thread.join(timeout=5)


def pcscd_running() -> bool:
    return subprocess.run(["pgrep", "-x", "pcscd"], capture_output=True).returncode == 0


def start_pcscd(log: Path) -> subprocess.Popen[bytes] | None:
    """pcscd in the foreground for the test, unless one is already running (then it is used)."""
    if pcscd_running():
        return None
    binary = shutil.which("pcscd") or "/usr/sbin/pcscd"
    out = log.open("wb")
    return subprocess.Popen([binary, "--foreground"], stdout=out, stderr=subprocess.STDOUT)
