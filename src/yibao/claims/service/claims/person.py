"""What the person does with a claim: submit (idempotent), withdraw, resubmit."""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.claims import repository
from yibao.claims.domain import (
    ClaimDraft,
    ClaimEvent,
    ClaimNotFound,
    ClaimStatus,
    InvalidClaim,
    check_attachment_kinds,
    check_draft,
    next_status,
)
from yibao.claims.service.claims.documents import (
    Upload,
    attachments_of,
    clean_uploads,
    discard,
    store_all,
)
from yibao.claims.service.claims.steps import by_person, move, record_step
from yibao.claims.tables import Claim
from yibao.kernel.clock import Clock, china_today
from yibao.kernel.uploads import DocumentStore

_REQUEST_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


async def submit_claim(
    session: AsyncSession,
    store: DocumentStore,
    clock: Clock,
    *,
    person_id: int,
    request_key: str,
    draft: ClaimDraft,
    uploads: list[Upload],
    max_bytes: int,
) -> Claim:
    """Submit a claim; the same request key again returns the first claim, never a second."""
    if not _REQUEST_KEY.match(request_key):
        raise InvalidClaim("请求编号无效，请刷新页面后重新提交")
    existing = await repository.claim_by_key(session, person_id, request_key)
    if existing is not None:
        return existing
    now = clock.now()
    draft = check_draft(draft, china_today(clock))
    check_attachment_kinds([u.kind for u in uploads], resubmission=False)
    stored = await store_all(store, clean_uploads(uploads, max_bytes))
    claim = Claim(
        person_id=person_id,
        request_key=request_key,
        status=next_status(None, ClaimEvent.SUBMIT).value,
        fixmedins_name=draft.fixmedins_name,
        fixmedins_code=draft.fixmedins_code,
        med_type=draft.med_type,
        begin_date=draft.begin_date,
        end_date=draft.end_date,
        diagnosis=draft.diagnosis,
        not_settled_reason=draft.not_settled_reason,
        medfee_sumamt_fen=draft.medfee_sumamt_fen,
        fulamt_ownpay_amt_fen=draft.fulamt_ownpay_amt_fen,
        round=1,
        submitted_at=now,
        updated_at=now,
    )
    try:
        session.add(claim)
        await session.flush()
    except IntegrityError:
        # The same key committed by a concurrent request: that claim is the answer.
        await discard(store, stored)
        await session.rollback()
        first = await repository.claim_by_key(session, person_id, request_key)
        if first is None:
            raise
        return first
    try:
        session.add_all(attachments_of(claim, stored, now))
        await record_step(session, claim, ClaimEvent.SUBMIT, by_person(person_id), now)
        await session.commit()
    except BaseException:
        await session.rollback()
        await discard(store, stored)
        raise
    return claim


async def _own_claim(session: AsyncSession, person_id: int, claim_id: int) -> Claim:
    claim = await repository.claim_of_person(session, person_id, claim_id, lock=True)
    if claim is None:
        raise ClaimNotFound("没有找到这笔报销申请")
    return claim


async def withdraw_claim(
    session: AsyncSession, clock: Clock, person_id: int, claim_id: int
) -> Claim:
    claim = await _own_claim(session, person_id, claim_id)
    await move(session, claim, ClaimEvent.WITHDRAW, by_person(person_id), clock.now())
    await session.commit()
    return claim


async def resubmit_claim(
    session: AsyncSession,
    store: DocumentStore,
    clock: Clock,
    *,
    person_id: int,
    claim_id: int,
    draft: ClaimDraft,
    uploads: list[Upload],
    max_bytes: int,
) -> Claim:
    """Correct a rejected claim and submit it again; earlier documents stay with it."""
    claim = await _own_claim(session, person_id, claim_id)
    next_status(ClaimStatus(claim.status), ClaimEvent.RESUBMIT)  # refuse early, before files
    draft = check_draft(draft, china_today(clock))
    check_attachment_kinds([u.kind for u in uploads], resubmission=True)
    stored = await store_all(store, clean_uploads(uploads, max_bytes))
    try:
        now = clock.now()
        claim.round += 1
        for field in (
            "fixmedins_name",
            "fixmedins_code",
            "med_type",
            "begin_date",
            "end_date",
            "diagnosis",
            "not_settled_reason",
            "medfee_sumamt_fen",
            "fulamt_ownpay_amt_fen",
        ):
            setattr(claim, field, getattr(draft, field))
        claim.reject_code = None
        claim.reject_text = None
        session.add_all(attachments_of(claim, stored, now))
        await move(session, claim, ClaimEvent.RESUBMIT, by_person(person_id), now)
        await session.commit()
    except BaseException:
        await session.rollback()
        await discard(store, stored)
        raise
    return claim
