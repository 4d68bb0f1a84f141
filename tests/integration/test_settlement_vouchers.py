"""The voucher and prescription use cases and what the database itself refuses, on SQLite and
PostgreSQL: versions of a settlement's voucher are unique and never negative, the current one
is the newest not withdrawn, a person reads only their own; one active authorisation per
prescription."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from tests.support.vouchers import PDF, sale
from yibao.enrolment import repository as enrolment_repository
from yibao.kernel.clock import CHINA_TZ
from yibao.prescriptions import service as prescriptions
from yibao.prescriptions.tables import PrescriptionAuthorisation
from yibao.runtime import Runtime
from yibao.settlement import service as settlement
from yibao.settlement_vouchers import service
from yibao.settlement_vouchers.domain import NoVoucher, VoucherData
from yibao.settlement_vouchers.tables import SettlementVoucher


def _data(setlinfo: dict[str, Any], bill_no: str) -> VoucherData:
    def fen(name: str) -> int:
        return int(setlinfo[name].replace(".", ""))

    return VoucherData(
        setl_id=setlinfo["setl_id"],
        psn_no=setlinfo["psn_no"],
        psn_name=setlinfo["psn_name"],
        bill_code="44030126",
        bill_no=bill_no,
        bill_chkcode="abc123",
        bill_time=datetime.strptime(setlinfo["setl_time"], "%Y-%m-%d %H:%M:%S"),  # noqa: DTZ007
        biller="",
        rechker="",
        amounts={"medfee_sumamt": fen("medfee_sumamt"), "acct_pay": fen("acct_pay")},
    )


@pytest.fixture
async def settled(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> tuple[settlement_world.World, dict[str, Any]]:
    w = await settlement_world.build(runtime, session, client, balance_fen=2000)
    id_number = enrolment_repository.decrypt_id_number(runtime.cipher, w.person.person)
    await session.close()
    await w.pharmacy.sign_in()
    return w, await sale(w.pharmacy, w.person.person.psn_no, id_number)


async def test_versions_history_and_the_persons_read(
    runtime: Runtime, settled: tuple[settlement_world.World, dict[str, Any]]
) -> None:
    w, setlinfo = settled
    setl_id, owner, other = setlinfo["setl_id"], w.person.person.id, w.resident.person.id
    async with runtime.sessions() as s:
        caller = await settlement.caller_by_code(s, w.pharmacy.code)
    for n, (replace_, document) in enumerate(((False, PDF), (True, None), (True, PDF)), 1):
        async with runtime.sessions() as s:
            view = await service.upload_voucher_in(
                s, runtime.clock, caller, _data(setlinfo, f"N{n}"),
                None if document is None else service.Document("v.pdf", document),
                msgid=f"M{n}", replace=replace_, max_bytes=1 << 20, where="input.data",
            )  # fmt: skip
            await s.commit()
        assert view.version == n
    async with runtime.sessions() as s:
        newest = await service.persons_voucher(s, owner, setl_id)
        assert newest is not None and newest.bill_no == "N3"
        assert await service.persons_voucher(s, other, setl_id) is None
        # Withdrawing version 3 makes version 2 current: data only, nothing to download.
        withdrawn = await service.withdraw_voucher(
            s, runtime.clock, caller, "M3", setlinfo["psn_no"]
        )
        assert withdrawn is not None and withdrawn.version == 3
        await s.commit()
    async with runtime.sessions() as s:
        current = await service.persons_voucher(s, owner, setl_id)
        assert current is not None and current.version == 2 and current.document_type is None
        made = await service.persons_voucher_document(s, owner, setl_id)
        assert made.content.startswith(b"%PDF-") and made.filename.endswith("_v2.pdf")
        with pytest.raises(NoVoucher):
            await service.persons_voucher_document(s, other, setl_id)
        rows = (
            (await s.execute(select(SettlementVoucher).order_by(SettlementVoucher.version)))
            .scalars()
            .all()
        )
        assert [(r.version, r.withdrawn_at is None) for r in rows] == [
            (1, True),
            (2, True),
            (3, False),
        ]


async def test_the_database_refuses_a_second_version_number_and_a_negative_amount(
    runtime: Runtime, settled: tuple[settlement_world.World, dict[str, Any]]
) -> None:
    w, setlinfo = settled
    async with runtime.sessions() as s:
        caller = await settlement.caller_by_code(s, w.pharmacy.code)
        await service.upload_voucher_in(
            s, runtime.clock, caller, _data(setlinfo, "N1"), None,
            msgid="M1", replace=False, max_bytes=1 << 20, where="input.data",
        )  # fmt: skip
        await s.commit()
    async with runtime.sessions() as s:
        first = (await s.execute(select(SettlementVoucher))).scalar_one()
        fields = {c.key: getattr(first, c.key) for c in SettlementVoucher.__table__.columns}
        del fields["id"]
        s.add(SettlementVoucher(**{**fields, "msgid": "M2"}))
        with pytest.raises(IntegrityError):
            await s.flush()
        await s.rollback()
        s.add(SettlementVoucher(**{**fields, "msgid": "M3", "version": 2, "acct_pay_fen": -1}))
        with pytest.raises(IntegrityError):
            await s.flush()


async def test_one_active_authorisation_per_prescription(
    runtime: Runtime, settled: tuple[settlement_world.World, dict[str, Any]]
) -> None:
    w, _ = settled
    now = runtime.clock.now().astimezone(CHINA_TZ).replace(tzinfo=None)
    request = prescriptions.AuthorisationRequest(
        hi_rxno="RX0001", psn_no=w.person.person.psn_no,
        prsc_fixmedins_code=w.hospital.code, prescribed_at=now - timedelta(hours=1),
    )  # fmt: skip
    async with runtime.sessions() as s:
        caller = await settlement.caller_by_code(s, w.pharmacy.code)
        done = await prescriptions.authorise_in(
            s, runtime.clock, caller, request, msgid="A1", where="input.data"
        )
        await s.commit()
    async with runtime.sessions() as s:
        row = (await s.execute(select(PrescriptionAuthorisation))).scalar_one()
        fields = {c.key: getattr(row, c.key) for c in PrescriptionAuthorisation.__table__.columns}
        del fields["id"]
        s.add(PrescriptionAuthorisation(**{**fields, "auth_no": "RA2", "msgid": "A2"}))
        with pytest.raises(IntegrityError):
            await s.flush()
        await s.rollback()
    async with runtime.sessions() as s:
        assert await prescriptions.revoke_authorisation(
            s, runtime.clock, caller, "A1", w.person.person.psn_no
        )
        await s.commit()
    async with runtime.sessions() as s:
        again = await prescriptions.authorise_in(
            s, runtime.clock, caller, replace(request), msgid="A3", where="input.data"
        )
        await s.commit()
    assert again.auth_no != done.auth_no and again.status == "active"
