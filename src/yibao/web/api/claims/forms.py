"""A claim's form as posted (the API's and the pages'): text to a checked draft, files to uploads."""

from __future__ import annotations

from datetime import date

from fastapi import UploadFile

from yibao.claims.domain import ClaimDraft, InvalidClaim
from yibao.claims.service import claims
from yibao.kernel.money import InvalidAmount, parse_yuan


def parse_day(raw: str, label: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise InvalidClaim(f"{label}应为日期 YYYY-MM-DD") from exc


def parse_amount(raw: str, label: str) -> int:
    try:
        return parse_yuan(raw.strip() or "0", field=label)
    except InvalidAmount as exc:
        raise InvalidClaim(f"{label}应为金额（元），最多两位小数，如 1234.50") from exc


def draft_from_form(
    *,
    fixmedins_name: str,
    fixmedins_code: str,
    med_type: str,
    begin_date: str,
    end_date: str,
    medfee_sumamt: str,
    fulamt_ownpay_amt: str,
    diagnosis: str,
    not_settled_reason: str,
) -> ClaimDraft:
    return ClaimDraft(
        fixmedins_name=fixmedins_name,
        fixmedins_code=fixmedins_code or None,
        med_type=med_type,
        begin_date=parse_day(begin_date, "开始日期"),
        end_date=parse_day(end_date, "结束日期"),
        medfee_sumamt_fen=parse_amount(medfee_sumamt, "医疗费用总额"),
        fulamt_ownpay_amt_fen=parse_amount(fulamt_ownpay_amt, "全自费金额"),
        diagnosis=diagnosis,
        not_settled_reason=not_settled_reason,
    )


async def read_uploads(max_bytes: int, files: dict[str, list[UploadFile]]) -> list[claims.Upload]:
    """Read each file up to one byte past the limit, so an oversized one is refused unread."""
    uploads: list[claims.Upload] = []
    for kind, group in files.items():
        for upload in group:
            if not upload.filename and not upload.size:
                continue  # an empty file input on the form
            data = await upload.read(max_bytes + 1)
            uploads.append(claims.Upload(kind, upload.filename or "", data))
    return uploads
