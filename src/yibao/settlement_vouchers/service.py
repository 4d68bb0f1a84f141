"""Use cases of the settlement voucher. The `*_in` ones run inside an interface message's unit of
work (settlement.service.answering commits them with the stored answer); the person's reads
write nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment import repository as enrolment_repository
from yibao.kernel.clock import CHINA_TZ, Clock
from yibao.kernel.errors import InvalidInput
from yibao.kernel.uploads import UploadRefused, clean, label
from yibao.settlement import repository as settlement_repository
from yibao.settlement.domain import Caller, UnknownSettlement
from yibao.settlement.tables import Settlement
from yibao.settlement_vouchers import repository
from yibao.settlement_vouchers.document import render_voucher
from yibao.settlement_vouchers.domain import (
    NOT_UPLOADED,
    UPLOADED,
    VOID,
    NoVoucher,
    SettlementNotVoucherable,
    VoucherData,
    VoucherExists,
    VoucherMismatch,
    digest,
    mismatches,
)
from yibao.settlement_vouchers.tables import SettlementVoucher


@dataclass(frozen=True, slots=True)
class Document:
    """A document as sent: its name and bytes (checked before it is kept)."""

    name: str
    content: bytes


@dataclass(frozen=True, slots=True)
class VoucherView:
    setl_id: str
    version: int
    bill_code: str
    bill_no: str
    bill_chkcode: str
    bill_time: datetime
    biller: str
    medfee_sumamt_fen: int
    digest: str
    document_type: str | None
    document_size: int | None
    uploaded_at: datetime


@dataclass(frozen=True, slots=True)
class VoucherStatus:
    setl_id: str
    status: str  # domain.NOT_UPLOADED, UPLOADED or VOID
    voucher: VoucherView | None


@dataclass(frozen=True, slots=True)
class DocumentFile:
    filename: str
    content_type: str
    content: bytes


def _view(row: SettlementVoucher) -> VoucherView:
    return VoucherView(
        setl_id=row.setl_id,
        version=row.version,
        bill_code=row.bill_code,
        bill_no=row.bill_no,
        bill_chkcode=row.bill_chkcode,
        bill_time=row.bill_time,
        biller=row.biller,
        medfee_sumamt_fen=row.medfee_sumamt_fen,
        digest=row.digest,
        document_type=row.document_type,
        document_size=None if row.document is None else len(row.document),
        uploaded_at=row.uploaded_at,
    )


async def _institutions_settlement(
    session: AsyncSession, institution: Caller, setl_id: str, psn_no: str | None, *, lock: bool
) -> Settlement:
    settlement = await settlement_repository.settlement_by_setl_id(session, setl_id, lock=lock)
    if settlement is None or settlement.fixmedins_code != institution.fixmedins_code:
        raise UnknownSettlement(f"本机构没有该参保人的结算 setl_id={setl_id}")
    if psn_no is not None and settlement.psn_no != psn_no:
        # The institution's own settlement: saying which field is wrong tells it nothing new.
        raise VoucherMismatch(f"input.data.psn_no 与结算 {setl_id} 的参保人不符")
    return settlement


async def upload_voucher_in(
    session: AsyncSession,
    clock: Clock,
    institution: Caller,
    data: VoucherData,
    document: Document | None,
    *,
    msgid: str,
    replace: bool,
    max_bytes: int,
    where: str,
) -> VoucherView:
    """4901 (replace=False) and 4905 (replace=True): check the voucher against its settlement
    and keep it as a new version. The settlement row is locked, so two uploads of one
    settlement queue; the unique (settlement, version) is the database's guarantee."""
    settlement = await _institutions_settlement(
        session, institution, data.setl_id, data.psn_no, lock=True
    )
    if settlement.status != "settled":
        raise SettlementNotVoucherable(
            f"结算 {data.setl_id} 已撤销，不能上传电子结算凭证（请开具冲红凭证并在本机构留存）"
        )
    person = await enrolment_repository.person(session, settlement.person_id)
    if person is None or person.name != data.psn_name:
        raise VoucherMismatch(f"{where}.psn_name 与结算 {data.setl_id} 的参保人姓名不符")
    wrong = mismatches(
        data,
        {
            "medfee_sumamt_fen": settlement.medfee_sumamt_fen,
            "fund_pay_sumamt_fen": settlement.fund_pay_sumamt_fen,
            "hifp_pay_fen": settlement.hifp_pay_fen,
            "acct_pay_fen": settlement.acct_pay_fen,
            "acct_mulaid_pay_fen": settlement.acct_mulaid_pay_fen,
            "psn_cash_pay_fen": settlement.psn_cash_pay_fen,
        },
        where,
    )
    if wrong:
        raise VoucherMismatch("；".join(wrong))
    existing = await repository.current(session, settlement.id)
    if existing is not None and not replace:
        raise VoucherExists(
            f"结算 {data.setl_id} 已上传电子结算凭证（第 {existing.version} 版），"
            "如需更正请用 4905 重新上传"
        )
    if existing is None and replace:
        raise NoVoucher(f"结算 {data.setl_id} 尚未上传电子结算凭证，请先用 4901 上传")
    kept: bytes | None = None
    kind: str | None = None
    if document is not None:
        try:
            checked = clean(document.content, max_bytes=max_bytes)
        except UploadRefused as exc:
            raise InvalidInput(f"{where}.file {exc.message}") from exc
        # Images are re-encoded without their metadata; a PDF is kept as sent once it is checked.
        kept, kind = checked.data, checked.content_type.value
    row = SettlementVoucher(
        settlement_id=settlement.id,
        setl_id=settlement.setl_id,
        person_id=settlement.person_id,
        fixmedins_code=institution.fixmedins_code,
        version=await repository.last_version(session, settlement.id) + 1,
        bill_code=data.bill_code,
        bill_no=data.bill_no,
        bill_chkcode=data.bill_chkcode,
        bill_time=data.bill_time.replace(tzinfo=CHINA_TZ),
        biller=data.biller,
        rechker=data.rechker,
        medfee_sumamt_fen=settlement.medfee_sumamt_fen,
        fund_pay_sumamt_fen=settlement.fund_pay_sumamt_fen,
        acct_pay_fen=settlement.acct_pay_fen,
        acct_mulaid_pay_fen=settlement.acct_mulaid_pay_fen,
        psn_cash_pay_fen=settlement.psn_cash_pay_fen,
        document=kept,
        document_type=kind,
        document_name=None if document is None else label(document.name),
        digest=digest(data, kept),
        reason=data.reason,
        msgid=msgid,
        uploaded_at=clock.now(),
    )
    repository.add(session, row)
    await session.flush()
    return _view(row)


async def upload_result(
    session: AsyncSession, institution: Caller, setl_id: str, psn_no: str | None
) -> VoucherView:
    """4902: the voucher kept for the settlement (the current version)."""
    settlement = await _institutions_settlement(session, institution, setl_id, psn_no, lock=False)
    row = await repository.current(session, settlement.id)
    if row is None:
        raise NoVoucher(f"结算 {setl_id} 没有已上传的电子结算凭证")
    return _view(row)


async def voucher_status(
    session: AsyncSession, institution: Caller, setl_id: str, psn_no: str | None
) -> VoucherStatus:
    """5501: not uploaded, uploaded, or void (the settlement was cancelled after it)."""
    settlement = await _institutions_settlement(session, institution, setl_id, psn_no, lock=False)
    row = await repository.current(session, settlement.id)
    if row is None:
        return VoucherStatus(setl_id, NOT_UPLOADED, None)
    status = UPLOADED if settlement.status == "settled" else VOID
    return VoucherStatus(setl_id, status, _view(row))


async def withdraw_voucher(
    session: AsyncSession, clock: Clock, institution: Caller, msgid: str, psn_no: str
) -> VoucherView | None:
    """2601 of a 4901/4905: the version that message kept is withdrawn (the one before is
    current again). None when that message kept nothing here or it is withdrawn already."""
    row = await repository.by_msgid(session, msgid, institution.fixmedins_code)
    if row is None:
        return None
    person = await enrolment_repository.person(session, row.person_id)
    if person is None or person.psn_no != psn_no:
        raise VoucherMismatch("参保人不符：psn_no 不是原交易的参保人")
    if not await repository.withdraw(session, row.id, clock.now()):
        return None
    return _view(row)


async def _persons_current(
    session: AsyncSession, person_id: int, setl_id: str
) -> tuple[Settlement, SettlementVoucher] | None:
    settlement = await settlement_repository.settlement_by_setl_id(session, setl_id)
    if settlement is None or settlement.person_id != person_id:
        return None
    row = await repository.current(session, settlement.id)
    return None if row is None else (settlement, row)


async def persons_voucher(
    session: AsyncSession, person_id: int, setl_id: str
) -> VoucherView | None:
    """The voucher of one of the person's own settlements, for the 消费记录 detail page; None
    for a settlement of anyone else (a relative's, paid through 家庭共济, included)."""
    found = await _persons_current(session, person_id, setl_id)
    return None if found is None else _view(found[1])


async def persons_voucher_document(
    session: AsyncSession, person_id: int, setl_id: str
) -> DocumentFile:
    """The document of the person's own voucher — the institution's file, or, when it sent the
    data only, a PDF of that data; NoVoucher for anyone else's, as for none."""
    found = await _persons_current(session, person_id, setl_id)
    if found is None:
        raise NoVoucher("没有可下载的电子结算凭证")
    settlement, row = found
    if row.document is None or row.document_type is None:
        person = await enrolment_repository.person(session, person_id)
        content = render_voucher(row, settlement, "" if person is None else person.name)
        filename = f"电子结算凭证信息_{row.setl_id}_v{row.version}.pdf"
        return DocumentFile(filename, "application/pdf", content)
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
    filename = f"电子结算凭证_{row.setl_id}_v{row.version}.{extension[row.document_type]}"
    return DocumentFile(filename, row.document_type, row.document)
