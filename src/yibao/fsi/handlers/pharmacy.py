"""Pharmacy transactions: 2101 药店预结算, 2102 药店结算, 2103 药店结算撤销 (cancel is shared
with 2208)."""

from __future__ import annotations

from yibao.fsi.call import Call, Reply
from yibao.fsi.handlers import mapping
from yibao.fsi.handlers.outpatient import assessment_reply, bill_request
from yibao.settlement import service


async def _assess(call: Call, *, write: bool) -> Reply:
    body = call.input()
    druginfo = body.object("druginfo")
    lines = tuple(await mapping.fee_lines(call, body.rows("drugdetail")))
    request = bill_request(call, druginfo, lines=lines)
    result = await service.settle_in(
        call.session,
        call.runtime.cipher,
        call.runtime.clock,
        call.caller,
        request,
        write=write,
    )
    return assessment_reply(call, result, request)


async def pre_settle(call: Call) -> Reply:
    return await _assess(call, write=False)


async def settle(call: Call) -> Reply:
    return await _assess(call, write=True)
