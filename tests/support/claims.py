"""Shared world for claim tests: two persons (the first with a pharmacy debit), a claim form."""

from __future__ import annotations

from datetime import timedelta

from tests.support.documents import jpeg_with_exif, pdf
from tests.support.world import define_regions, enrol, fund
from yibao.kernel.clock import china_today
from yibao.ledger import repository as ledger
from yibao.ledger.domain import EntryKind
from yibao.runtime import Runtime


async def two_people(runtime: Runtime) -> tuple[int, int, int]:
    async with runtime.sessions() as s:
        await define_regions(s)
        a = await enrol(runtime, s, name="王芳")
        b = await enrol(runtime, s, name="赵强")
    async with runtime.sessions() as s:
        await fund(s, a.person.id, 10_000, "fund-a")
    async with runtime.sessions() as s:
        assert a.account_id is not None
        account = await ledger.lock_account(s, a.account_id)
        entry = await ledger.post(
            s,
            account,
            ledger.Posting(EntryKind.SETTLEMENT_DEBIT, -2_000, "setl:X:own", "某某大药房"),
            runtime.clock.now(),
        )
        await s.commit()
        return a.person.id, b.person.id, entry.id


def claim_form(runtime: Runtime, key: str = "k-0000000001") -> dict[str, str]:
    today = china_today(runtime.clock)
    return {
        "request_key": key,
        "fixmedins_name": "北京协和医院",
        "med_type": "13",
        "begin_date": (today - timedelta(days=2)).isoformat(),
        "end_date": (today - timedelta(days=1)).isoformat(),
        "medfee_sumamt": "1234.50",
        "fulamt_ownpay_amt": "34.50",
        "diagnosis": "急性肠胃炎",
        "not_settled_reason": "no_card",
    }


def claim_files() -> list[tuple[str, tuple[str, bytes, str]]]:
    return [
        ("invoice", ("发票.jpg", jpeg_with_exif(), "image/jpeg")),
        ("diagnosis_doc", ("诊断.pdf", pdf(), "application/pdf")),
    ]
