"""9001 签到, 9002 签退 and 1101 人员信息获取."""

from __future__ import annotations

from yibao.enrolment.domain import UnknownPerson
from yibao.enrolment.tables import Employer
from yibao.fsi.call import Call, Reply
from yibao.fsi.envelope import wall_time, yuan
from yibao.fsi.handlers.output import age_on, person_block
from yibao.kernel.clock import china_today
from yibao.settlement import service
from yibao.settlement.domain import CERT_TYPE_NAMES


async def sign_in(call: Call) -> Reply:
    sign_no = await service.sign_in(call.session, call.caller, call.runtime.clock)
    return Reply(
        {"signinoutb": {"sign_time": wall_time(call.runtime.clock.now()), "sign_no": sign_no}}
    )


async def sign_out(call: Call) -> Reply:
    """9002: `{"signOut": {"sign_no", "fixmedins_code"}}`; the sign_no must be the day's."""
    body = call.input().object("signOut")
    sign_no = body.code("sign_no", max_len=30)
    if sign_no != call.envelope.sign_no:
        body.choice("sign_no", {call.envelope.sign_no or ""})  # names the field
    await service.sign_out(call.session, call.caller, sign_no, call.runtime.clock)
    return Reply({"signoutoutb": {"sign_time": wall_time(call.runtime.clock.now())}})


async def person_info(call: Call) -> Reply:
    data = call.data()
    cert_type = data.choice("mdtrt_cert_type", CERT_TYPE_NAMES)
    cert_no = data.code("mdtrt_cert_no", required=False, max_len=200) or (
        data.code("certno", max_len=18) if cert_type == "02" else ""
    )
    if not cert_no:
        data.code("mdtrt_cert_no", max_len=200)  # names the missing field
    person, enrolments, account = await service.find_insured(
        call.session,
        call.runtime.cipher,
        call.runtime.clock,
        cert_type=cert_type,
        cert_no=cert_no,
    )
    name = data.text("psn_name", required=False, max_len=50)
    if name and name != person.name:
        raise UnknownPerson("psn_name 与凭证对应的参保人姓名不符")
    base = person_block(person)
    base["age"] = age_on(person.birth_date, china_today(call.runtime.clock))
    insuinfo = []
    for enrolment in enrolments:
        employer = (
            await call.session.get(Employer, enrolment.employer_id)
            if enrolment.employer_id
            else None
        )
        has_account = enrolment.insutype == "310" and account is not None
        insuinfo.append(
            {
                "balc": yuan(account.balance_fen) if has_account and account else "0.00",
                "insutype": enrolment.insutype,
                "psn_type": enrolment.psn_type,
                "psn_insu_stas": enrolment.status,
                "psn_insu_date": enrolment.begin_date.isoformat(),
                "insuplc_admdvs": enrolment.admdvs,
                "emp_name": employer.name if employer else "",
                "acct_stas": (account.status if has_account and account else ""),
            }
        )
    return Reply({"baseinfo": base, "insuinfo": insuinfo, "idetinfo": []})
