"""电子处方线下流转授权 (7201): before a pharmacy dispenses an electronic prescription that a
person brings from the prescribing hospital (处方外配), it asks the platform for authorisation
and keeps the answer; the sale it then settles (2102) can name the prescription.

Rules:
- The prescription (`hi_rxno`, 医保处方编号) is the person's and was issued by a designated
  hospital (`prsc_fixmedins_code`) within the last PRESCRIPTION_VALID_DAYS days (处方管理办法:
  valid on the day, extendable to at most three), never in the future.
- One prescription is dispensed by one pharmacy: while it is authorised to one, another is
  refused. The same pharmacy asking again gets its authorisation back (no second one).
- The person must be insured (basic insurance, enrolment normal).
- An authorisation lasts until the prescription expires; a 2601 of the message that made it
  revokes it, and the prescription may then be authorised again (to any pharmacy).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from yibao.kernel.errors import Conflict, InvalidInput

PRESCRIPTION_VALID_DAYS = 3

ACTIVE, REVOKED = "active", "revoked"


class PrescriptionRefused(InvalidInput):
    code = "prescription_refused"


class PrescriptionTaken(Conflict):
    code = "prescription_taken"


def valid_until(prescribed_at: datetime) -> datetime:
    return prescribed_at + timedelta(days=PRESCRIPTION_VALID_DAYS)


def check_prescribed_at(prescribed_at: datetime, now: datetime, where: str) -> None:
    if prescribed_at > now + timedelta(minutes=5):  # clocks of a hospital may run a little ahead
        raise PrescriptionRefused(f"{where}.prsc_time 晚于当前时间")
    if valid_until(prescribed_at) <= now:
        raise PrescriptionRefused(
            f"处方已过有效期（开方后 {PRESCRIPTION_VALID_DAYS} 天），不能授权线下流转"
        )
