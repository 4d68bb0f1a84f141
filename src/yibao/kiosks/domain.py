"""Rules of the self-service kiosks (自助查询机).

- A kiosk is a device staff register: an id, a place, and a key shown once; only the key's
  SHA-256 is kept. Every call of the kiosk (its browser and its card-reader bridge) carries the
  key; a revoked kiosk is refused at its next call, whatever it has open.
- A person's session at a kiosk opens only after identification (card + 医保卡密码, the 医保电子凭证
  QR, or ID number + SMS code) and ends when the card leaves the reader, the reader disappears,
  after `IDLE` without a touch, on 退出, when the kiosk is revoked, or when the server starts
  (a card taken out while the server was down was never reported). An ended session never
  opens again; print jobs it left queued are cancelled, so no printout waits for the next person.
- A kiosk that has not called in for `STALE_AFTER` is flagged on the staff page.
- Every read at a kiosk is on the person's 查询记录 as "自助查询机 <place>".
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from enum import StrEnum

from yibao.kernel.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied

IDLE = timedelta(seconds=60)
COUNTDOWN_SECONDS = 10
# The browser ends the session itself after IDLE; the server allows a little more before it
# refuses, so a tap just before the countdown ends is not lost in transit.
SERVER_IDLE = IDLE + timedelta(seconds=5)
STALE_AFTER = timedelta(minutes=2)
KEY_BYTES = 32
MAX_PRINT_DAYS = 366

_KIOSK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$")


class CardState(StrEnum):
    NONE = "none"  # no card in the reader
    PRESENT = "present"  # a social-security card of an enrolled person
    REFUSED = "refused"  # a card the kiosk cannot use (message says why)
    NO_READER = "no_reader"


class EndReason(StrEnum):
    SIGNED_OUT = "signed_out"
    IDLE = "idle"
    CARD_REMOVED = "card_removed"
    READER_LOST = "reader_lost"
    REVOKED = "revoked"
    REPLACED = "replaced"
    RESTARTED = "restarted"  # the server started again: open sessions end (docs/kiosk.md)


END_MESSAGES = {
    EndReason.SIGNED_OUT: "您已退出，欢迎再次使用。",
    EndReason.IDLE: "长时间没有操作，为保护您的信息已自动退出。",
    EndReason.CARD_REMOVED: "社保卡已取出，已自动退出。",
    EndReason.READER_LOST: "读卡器连接中断，已自动退出。请联系工作人员。",
    EndReason.REVOKED: "本机已停用，请到其他自助查询机或窗口办理。",
    EndReason.REPLACED: "已有新的查询开始，上一次查询已退出。",
    EndReason.RESTARTED: "系统已重新启动，为保护您的信息已自动退出，请重新验证身份。",
}


class Method(StrEnum):
    CARD = "card"
    VOUCHER = "voucher"
    SMS = "sms"


class PrintState(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    PRINTED = "printed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class UnknownKiosk(PermissionDenied):
    code = "unknown_kiosk"


class KioskRevoked(PermissionDenied):
    code = "kiosk_revoked"


class KioskSessionEnded(PermissionDenied):
    code = "kiosk_session_ended"


class CardRefused(InvalidInput):
    code = "card_refused"


class PrinterUnavailable(Conflict):
    code = "printer_unavailable"


class UnknownPrintJob(NotFound):
    code = "unknown_print_job"


class KioskExists(Conflict):
    code = "kiosk_exists"


class InvalidKiosk(InvalidInput):
    code = "invalid_kiosk"


class KioskError(DomainError):
    code = "kiosk_error"


def check_kiosk_id(kiosk_id: str) -> str:
    kiosk_id = kiosk_id.strip()
    if not _KIOSK_ID.match(kiosk_id):
        raise InvalidKiosk("自助查询机编号为 2–32 位字母、数字、- 或 _，例如 HALL-01")
    return kiosk_id


def check_place(place: str) -> str:
    place = " ".join(place.split())
    if not 2 <= len(place) <= 60:
        raise InvalidKiosk("请填写安放地点（2–60 个字），例如 市一医院门诊大厅")
    return place


def key_digest(key: str) -> str:
    return hashlib.sha256(key.strip().encode()).hexdigest()


def who(place: str) -> str:
    """How a kiosk is named on the person's 查询记录."""
    return f"自助查询机 {place}"


def is_stale(last_seen_at: datetime | None, now: datetime) -> bool:
    return last_seen_at is None or now - last_seen_at > STALE_AFTER


def is_idle(last_touch_at: datetime, now: datetime) -> bool:
    return now - last_touch_at > SERVER_IDLE


# What CUPS says about a printer (IPP printer-state and printer-state-reasons), in the words a
# person at the kiosk and the staff page read.
PRINTER_PROBLEMS = {
    "media-empty": "打印机缺纸",
    "media-needed": "打印机缺纸",
    "media-jam": "打印机卡纸",
    "offline": "打印机离线",
    "paused": "打印机已暂停",
    "toner-empty": "打印机缺墨",
    "marker-supply-empty": "打印机缺墨",
    "door-open": "打印机舱门未关",
}


def printer_problem(state: str | None, reasons: list[str]) -> str | None:
    """None when the printer can print now; else the words saying why not."""
    if state is None:
        return "本机未连接打印机"
    for reason in reasons:
        name = reason.rsplit("-", 1)[0] if reason.endswith(("-error", "-warning")) else reason
        if name in PRINTER_PROBLEMS and not reason.endswith("-warning"):
            return PRINTER_PROBLEMS[name]
    if state == "stopped":
        return "打印机离线"
    if state == "missing":
        return "本机未连接打印机"
    return None
