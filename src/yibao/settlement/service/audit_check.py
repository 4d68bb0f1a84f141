"""The detail audit (明细审核) every bill passes before it is assessed (2206/2101) or settled
(2207/2102): a blocking finding refuses it with the finding's message; warnings ride along in
warn_msg; a settlement keeps its findings (and so the rule versions that made them), so a later
rule change never alters what it was told."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.auditrules import screening
from yibao.auditrules.domain import AuditBlocked, Bill, Line, refusal
from yibao.enrolment.domain import Cover, InsuredPerson
from yibao.kernel.clock import Clock, to_china
from yibao.settlement.domain import Caller, FeeLine, LineSplit
from yibao.settlement.repository import visit_info


@dataclass
class Checked:
    screened: screening.Screened
    bill: Bill

    @property
    def warnings(self) -> list[str]:
        return [f.message for f in self.screened.outcome.warnings]


async def check_bill(
    session: AsyncSession,
    clock: Clock,
    institution: Caller,
    person: InsuredPerson,
    enrolment: Cover,
    mdtrt_id: str,
    split: list[tuple[FeeLine, LineSplit, str]],
    visit_id: int | None,
) -> Checked:
    now = clock.now()
    day = to_china(now).date()

    async def diagnoses() -> tuple[str, ...]:
        if visit_id is None:
            return ()
        rows = await visit_info.diagnoses_of(session, visit_id)
        return tuple(d.diag_code for d in rows if d.vali_flag != "0")

    bill = Bill(
        psn_no=person.psn_no,
        mdtrt_id=mdtrt_id,
        gender=person.gender,
        birth_date=person.birth_date,
        insutype=enrolment.insutype,
        fixmedins_code=institution.fixmedins_code,
        hosp_lv=None,
        day=day,
        diagnoses=(),
        lines=tuple(
            Line(
                line.feedetl_sn,
                line.med_list_codg,
                name,
                line.cnt,
                line.det_item_fee_sumamt_fen,
                day,
                s.chrgitm_lv.value,
            )
            for line, s, name in split
        ),
    )
    screened = await screening.screen(session, now, person.id, bill, diagnoses)
    if screened.outcome.blocking:
        raise AuditBlocked(refusal(screened.outcome.blocking))
    return Checked(screened, bill)


async def keep_findings(
    session: AsyncSession, clock: Clock, checked: Checked, *, msgid: str, setl_id: str
) -> None:
    if not checked.screened.rules_applied:
        return
    await screening.keep(
        session,
        clock.now(),
        checked.screened,
        trig="settlement",
        bill=checked.bill,
        msgid=msgid,
        setl_id=setl_id,
    )
