"""7201 电子处方线下流转授权: a pharmacy's authorisation to dispense a prescription offline.

The shape is yibao's, after the national prescription fields (hi_rxno 医保处方编号, rx_trace_code
处方追溯码, prsc_fixmedins_code, prsc_time); see docs/fsi.md.
"""

from __future__ import annotations

from yibao.fsi.call import NOTHING, Call, Original, Reply, Reversed
from yibao.fsi.envelope import wall_time
from yibao.prescriptions import service


async def authorise(call: Call) -> Reply:
    data = call.data()
    prescribed_at = data.moment("prsc_time")
    assert prescribed_at is not None
    request = service.AuthorisationRequest(
        hi_rxno=data.code("hi_rxno", max_len=40),
        psn_no=data.code("psn_no", max_len=30),
        prsc_fixmedins_code=data.code("prsc_fixmedins_code", max_len=12),
        prescribed_at=prescribed_at,
        rx_trace_code=data.code("rx_trace_code", required=False, max_len=64),
        phar_name=data.text("phar_name", required=False, max_len=50),
    )
    done = await service.authorise_in(
        call.session,
        call.runtime.clock,
        call.caller,
        request,
        msgid=call.envelope.msgid,
        where=data.where,
    )
    return Reply(
        {
            "data": {
                "auth_no": done.auth_no,
                "hi_rxno": done.hi_rxno,
                "psn_no": done.psn_no,
                "fixmedins_code": done.fixmedins_code,
                "auth_stas": "1",
                "auth_time": wall_time(done.authorised_at),
                "auth_endtime": wall_time(done.expires_at),
            }
        }
    )


async def reverse_authorisation(call: Call, original: Original) -> Reversed:
    """2601 of a 7201: the authorisation that message made is revoked."""
    revoked = await service.revoke_authorisation(
        call.session, call.runtime.clock, call.caller, original.msgid, original.psn_no
    )
    return NOTHING if revoked is None else Reversed("authorisation")
