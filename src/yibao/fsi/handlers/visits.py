"""A clinic's visit between registration and settlement: 2202 门诊挂号撤销, 2203 门诊就诊信息上传
(2203A the same), 2205 门诊费用明细信息撤销, and how 2601 冲正 undoes a 2203."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.fsi.call import NOTHING, Call, Original, Reply, Reversed
from yibao.fsi.envelope import Fields, InvalidMessage, wall_time
from yibao.settlement import service
from yibao.settlement.domain import MED_TYPE_NAMES, Caller

DIAG_TYPES = {"1": "西医诊断", "2": "中医主病诊断", "3": "中医主证诊断"}


def diagnosis(row: Fields) -> service.Diagnosis:
    number = row.count("diag_srt_no")
    if number != number.to_integral_value() or not 1 <= number <= 99:
        raise InvalidMessage(f"{row.where}.diag_srt_no 应为 1 到 99 的整数，收到 {number}")
    moment = row.moment("diag_time", required=False)
    return service.Diagnosis(
        diag_type=row.choice("diag_type", DIAG_TYPES),
        diag_srt_no=int(number),
        diag_code=row.code("diag_code", max_len=20),
        diag_name=row.text("diag_name", max_len=100),
        diag_dept=row.text("diag_dept", required=False, max_len=50) or None,
        dise_dor_no=row.code("dise_dor_no", required=False, max_len=30) or None,
        dise_dor_name=row.text("dise_dor_name", required=False, max_len=50) or None,
        diag_time=None if moment is None else wall_time(moment),
        vali_flag=row.choice("vali_flag", {"0", "1"}, default="1"),
    )


def visit_info(call: Call) -> service.VisitInfo:
    """2203's input: `{"mdtrtinfo": {…}, "diseinfo": [ … ]}` (异地就医 reads it the same way)."""
    body = call.input()
    info = body.object("mdtrtinfo")
    return service.VisitInfo(
        mdtrt_id=info.code("mdtrt_id", max_len=30),
        psn_no=info.code("psn_no", max_len=30),
        med_type=info.choice("med_type", MED_TYPE_NAMES),
        main_cond_dscr=info.text("main_cond_dscr", required=False, max_len=1000) or None,
        dise_codg=info.code("dise_codg", required=False, max_len=30) or None,
        dise_name=info.text("dise_name", required=False, max_len=500) or None,
        diagnoses=tuple(diagnosis(row) for row in body.rows("diseinfo")),
    )


class RecordInfo(Protocol):
    def __call__(
        self, session: AsyncSession, caller: Caller, info: service.VisitInfo, /, *, msgid: str
    ) -> Awaitable[object]: ...


class WithdrawInfo(Protocol):
    def __call__(
        self, session: AsyncSession, caller: Caller, /, *, psn_no: str, msgid: str
    ) -> Awaitable[bool]: ...


class WithdrawBatch(Protocol):
    def __call__(
        self,
        session: AsyncSession,
        caller: Caller,
        /,
        *,
        psn_no: str,
        mdtrt_id: str,
        chrg_bchno: str,
    ) -> Awaitable[int]: ...


@dataclass(frozen=True, slots=True)
class VisitHandlers:
    """2203/2203A, the 2601 of a 2203 and 2205 over one kind of visit record: this region's
    (`settlement.service`) or, for a person insured elsewhere, the treatment region's own
    (`crossregion.service`). The input is read and the answers are made the same way for both."""

    record_info: RecordInfo
    withdraw_info: WithdrawInfo
    withdraw_batch: WithdrawBatch

    async def upload_visit_info(self, call: Call) -> Reply:
        """2203: answers nothing but success."""
        info = visit_info(call)
        await self.record_info(call.session, call.caller, info, msgid=call.envelope.msgid)
        return Reply({"data": {"mdtrt_id": info.mdtrt_id}})

    async def reverse_visit_info(self, call: Call, original: Original) -> Reversed:
        withdrawn = await self.withdraw_info(
            call.session, call.caller, psn_no=original.psn_no, msgid=original.msgid
        )
        return Reversed("visit_info") if withdrawn else NOTHING

    async def withdraw_fees(self, call: Call) -> Reply:
        """2205: `{"data": {"mdtrt_id", "chrg_bchno", "psn_no"}}`; chrg_bchno 0000: every line."""
        data = call.data()
        mdtrt_id = data.code("mdtrt_id", max_len=30)
        withdrawn = await self.withdraw_batch(
            call.session,
            call.caller,
            psn_no=data.code("psn_no", max_len=30),
            mdtrt_id=mdtrt_id,
            chrg_bchno=data.code("chrg_bchno", max_len=30),
        )
        return Reply({"data": {"mdtrt_id": mdtrt_id, "cnt": withdrawn}})


IN_REGION = VisitHandlers(
    service.record_visit_info_in, service.withdraw_visit_info, service.withdraw_fee_batch_in
)
upload_visit_info = IN_REGION.upload_visit_info
reverse_visit_info = IN_REGION.reverse_visit_info
withdraw_fees = IN_REGION.withdraw_fees


async def cancel_registration(call: Call) -> Reply:
    """2202: `{"data": {"psn_no", "mdtrt_id", "ipt_otp_no"}}`."""
    data = call.data()
    visit = await service.cancel_registration_in(
        call.session,
        call.caller,
        psn_no=data.code("psn_no", max_len=30),
        mdtrt_id=data.code("mdtrt_id", max_len=30),
    )
    return Reply({"data": {"mdtrt_id": visit.mdtrt_id, "psn_no": data.code("psn_no")}})
