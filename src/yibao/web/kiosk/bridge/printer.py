"""The kiosk's printer through its CUPS (pycups, IPP underneath): its state in IPP's words, and a
PDF printed from memory (no file of the person's statement is written on the kiosk)."""

from __future__ import annotations

import time
from typing import Any

IPP_STATES = {3: "idle", 4: "processing", 5: "stopped"}
JOB_DONE = 9  # completed
JOB_FAILED = {7, 8}  # canceled, aborted


class PrintFailed(Exception):
    pass


class CupsPrinter:
    def __init__(self, queue: str) -> None:
        import cups

        self.queue = queue
        self.cups = cups
        self.connection: Any = cups.Connection()

    def state(self) -> dict[str, Any]:
        try:
            attrs = self.connection.getPrinterAttributes(self.queue)
        except self.cups.IPPError:
            return {"state": "missing", "reasons": []}
        reasons = [r for r in attrs.get("printer-state-reasons", []) if r != "none"]
        if not attrs.get("printer-is-accepting-jobs", True):
            reasons.append("paused")
        return {
            "state": IPP_STATES.get(attrs.get("printer-state", 0), "stopped"),
            "reasons": reasons,
        }

    def print_pdf(self, pdf: bytes, title: str, *, wait_seconds: float = 60) -> int:
        now = self.state()
        if now["state"] != "idle" and now["state"] != "processing":
            raise PrintFailed("打印机离线")
        job = self.connection.createJob(self.queue, title, {})
        self.connection.startDocument(self.queue, job, title, "application/pdf", 1)
        self.connection.writeRequestData(pdf, len(pdf))
        self.connection.finishDocument(self.queue)
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            state = self.connection.getJobAttributes(job).get("job-state")
            if state == JOB_DONE:
                return int(job)
            if state in JOB_FAILED:
                raise PrintFailed("打印机未能完成打印")
            time.sleep(0.3)
        raise PrintFailed("打印超时，请联系工作人员")
