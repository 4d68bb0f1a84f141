"""python -m yibao.web.kiosk.bridge --server URL --key-file PATH [--reader NAME] [--printer QUEUE]

One loop: every half second the reader (a card in, a card out, a card that is not a
social-security card, the reader gone), every two seconds a heartbeat with the printer's state,
whose answer lists the print jobs to fetch and print. The key is read from a file (never an
argument, which other users of the machine can see)."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from yibao.web.kiosk.bridge.card import CardReading, NotASocialSecurityCard, read_card
from yibao.web.kiosk.bridge.printer import CupsPrinter, PrintFailed

NOT_SSC = "无法识别这张卡，请插入社会保障卡（芯片朝上）"


class Bridge:
    def __init__(self, server: str, key: str, reader: str, printer: CupsPrinter | None) -> None:
        self.http = httpx.Client(
            base_url=server.rstrip("/"),
            headers={"authorization": f"Bearer {key}"},
            timeout=10,
        )
        self.reader_name = reader
        self.printer = printer
        self.connection: Any = None
        self.reported: tuple[str, str] | None = None  # (state, card number)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        try:
            answer = self.http.post(path, json=body)
        except httpx.HTTPError as exc:
            print(f"server unreachable: {type(exc).__name__}", file=sys.stderr)
            return None
        if answer.status_code != 200:
            print(f"server refused {path}: {answer.status_code}", file=sys.stderr)
            return None
        data: dict[str, Any] = answer.json()
        return data

    def _report(self, state: str, card_no: str, body: dict[str, Any]) -> None:
        if self.reported == (state, card_no):
            return
        if self._post("/kiosk/device/card", body) is not None:
            self.reported = (state, card_no)

    def _reader(self) -> Any:
        from smartcard.System import readers

        found = [r for r in readers() if self.reader_name in str(r)]
        return found[0] if found else None

    def poll_card(self) -> None:
        from smartcard.Exceptions import CardConnectionException, NoCardException

        try:
            reader = self._reader()
        except Exception:  # pcscd itself gone: the same as no reader
            reader = None
        if reader is None:
            self.connection = None
            self._report("no_reader", "", {"present": False, "reader": False})
            return
        if self.connection is not None:
            try:
                self.connection.getATR()
                self.connection.transmit([0x00, 0xA4, 0x00, 0x00, 0x02, 0x3F, 0x00])
                return  # the same card is still in
            except (CardConnectionException, NoCardException):
                self.connection = None
        connection = reader.createConnection()
        try:
            connection.connect()
        except (CardConnectionException, NoCardException):
            self._report("none", "", {"present": False})
            return
        try:
            reading: CardReading = read_card(connection)
        except CardConnectionException:
            # A card still settling in the reader (or pulled out mid-read) fails to answer: read
            # it again at the next poll rather than keep it as a card that is not one.
            self.connection = None
            with contextlib.suppress(CardConnectionException):
                connection.disconnect()
            return
        except NotASocialSecurityCard:
            self.connection = connection
            self._report("refused", "", {"present": True, "problem": NOT_SSC})
            return
        self.connection = connection
        self._report(
            "present",
            reading.card_no,
            {"present": True, "card_no": reading.card_no, "ssn": reading.ssn},
        )

    def heartbeat(self) -> None:
        state = self.printer.state() if self.printer else {}
        answer = self._post("/kiosk/device/heartbeat", {"printer": state})
        for job in (answer or {}).get("jobs", []):
            self.print_job(int(job))

    def print_job(self, job: int) -> None:
        assert self.printer is not None
        try:
            pdf = self.http.get(f"/kiosk/device/jobs/{job}.pdf")
        except httpx.HTTPError:
            return
        if pdf.status_code != 200:
            return
        try:
            self.printer.print_pdf(pdf.content, f"yibao-statement-{job}")
        except (PrintFailed, Exception) as exc:
            message = str(exc) if isinstance(exc, PrintFailed) else "打印机故障"
            self._post(f"/kiosk/device/jobs/{job}", {"printed": False, "message": message})
            return
        self._post(f"/kiosk/device/jobs/{job}", {"printed": True})

    def run(self, card_every: float = 0.5, beat_every: float = 2.0) -> None:
        last_beat = 0.0
        while True:
            self.poll_card()
            if time.monotonic() - last_beat >= beat_every:
                last_beat = time.monotonic()
                self.heartbeat()
            time.sleep(card_every)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m yibao.web.kiosk.bridge")
    parser.add_argument("--server", required=True, help="e.g. https://yibao.example.gov.cn")
    parser.add_argument("--key-file", required=True, type=Path, help="file holding the kiosk key")
    parser.add_argument("--reader", default="", help="part of the PC/SC reader's name")
    parser.add_argument("--printer", default="", help="the CUPS queue, e.g. KIOSK_PDF")
    args = parser.parse_args()
    key = args.key_file.read_text().strip()
    printer = CupsPrinter(args.printer) if args.printer else None
    Bridge(args.server, key, args.reader, printer).run()


if __name__ == "__main__":
    main()
