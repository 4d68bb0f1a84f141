"""人员备案 for 异地就医: 2501 转院备案 (a hospital refers its patient to another region) and 2502
转院备案撤销. Both go through the same use cases as the phone pages and the counter.

2503–2507 (慢特病备案, 人员定点备案, 人员意外伤害备案 and their 撤销) are not 异地就医 and are not
answered here.
"""

from __future__ import annotations

from datetime import date

from yibao.filings import service as filings
from yibao.filings.domain import DocumentKind, FilingKind
from yibao.fsi.call import Call, Reply
from yibao.fsi.envelope import Fields, InvalidMessage

INSUTYPES = {"310", "390"}


def _day(fields: Fields, name: str, *, required: bool = True) -> date | None:
    """A date as HIS clients send it: yyyy-MM-dd, or a moment whose day is taken."""
    text = fields.text(name, required=required, max_len=19)
    if not text:
        return None
    try:
        if len(text) not in (10, 19):
            raise ValueError(text)
        return date.fromisoformat(text[:10])
    except ValueError as exc:
        raise InvalidMessage(f"{fields.where}.{name} 应为有效的日期 yyyy-MM-dd") from exc


async def refer(call: Call) -> Reply:
    """2501: `{"refmedin": {psn_no, insutype, mdtrtarea_admdvs, reflin_medins_no,
    reflin_medins_name, refl_date, refl_rea, begndate, enddate, …}}`; answers
    `{"result": {"trt_dcla_detl_sn"}}`. The 备案 holds as the insured region's rules say (a
    temporary 备案: at least six months); an `enddate` that differs is answered as a warning."""
    refmedin = call.input().object("refmedin")
    refmedin.choice("insutype", INSUTYPES)
    begins = _day(refmedin, "begndate")
    if begins is None:  # required: _day refuses an empty one
        raise InvalidMessage("input.refmedin.begndate 缺失")
    asked_end = _day(refmedin, "enddate", required=False)
    referred_to = refmedin.code("reflin_medins_no", required=False, max_len=30)
    place = refmedin.text("reflin_medins_name", required=False, max_len=60)
    filing = await filings.file_for_institution_in(
        call.session,
        call.runtime.clock,
        filings.institution_actor(call.caller.fixmedins_code, call.caller.name),
        refmedin.code("psn_no", max_len=30),
        filings.Application(
            kind=FilingKind.REFERRAL,
            treatment_admdvs=refmedin.code("mdtrtarea_admdvs", max_len=6),
            treatment_name=place or referred_to or "转诊",
            begins=begins,
            document_kind=DocumentKind.REFERRAL,
            document_note=refmedin.text("refl_rea", required=False, max_len=100),
            referral_medins_code=call.caller.fixmedins_code,
        ),
    )
    warnings = []
    if asked_end is not None and asked_end != filing.ends:
        warnings.append(f"备案有效期按参保地规则为 {filing.begins} 至 {filing.ends}")
    return Reply(
        {
            "result": {
                "trt_dcla_detl_sn": filing.serial,
                "begndate": filing.begins.isoformat(),
                "enddate": filing.ends.isoformat() if filing.ends else None,
            }
        },
        warnings,
    )


async def cancel_referral(call: Call) -> Reply:
    """2502: `{"data": {trt_dcla_detl_sn, psn_no, memo}}`; only the institution that filed it."""
    data = call.data()
    done = await filings.cancel_for_institution_in(
        call.session,
        call.runtime.clock,
        filings.institution_actor(call.caller.fixmedins_code, call.caller.name),
        data.code("psn_no", max_len=30),
        data.code("trt_dcla_detl_sn", max_len=30),
        data.text("memo", required=False, max_len=200),
    )
    return Reply({"data": {"trt_dcla_detl_sn": done.serial, "vali_flag": "0"}})
