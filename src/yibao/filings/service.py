"""Use cases of 异地就医备案: file, change, cancel, list; the region's rules. The only commits.

Every change is on the audit trail (`filings.filed`, `filings.changed`, `filings.cancelled`,
`filings.rules_set`), with the person as subject; the counter's read (`filings.view`) shows on
their 查询记录. A change someone else made for them (the counter, an institution's 2501/2502)
also reaches them as an in-app message (消息), written with the change. Uploaded proofs go through `kernel.uploads` (type by content, images
re-encoded) into the same store as 家庭共济's documents.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.audit.domain import LOOKUP_REASONS, ActorType, LookupReasonRequired
from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.domain import EnrolmentStatus, UnknownPerson, is_retired
from yibao.filings import repository
from yibao.filings.domain import (
    KIND_NAMES,
    Channel,
    DocumentKind,
    Filing,
    FilingConflict,
    FilingKind,
    FilingNotAllowed,
    FilingState,
    InvalidFiling,
    RegionFilingRules,
    UnknownFiling,
    check_admdvs,
    check_may_end,
    check_new_filing,
    check_no_conflict,
    check_text,
)
from yibao.filings.tables import FilingDocument, FilingRow
from yibao.kernel import uploads
from yibao.kernel.actors import StaffActor
from yibao.kernel.clock import Clock, china_today
from yibao.notifications import repository as notifications_repository
from yibao.notifications.domain import Channel as NoticeChannel
from yibao.notifications.repository import NewMessage

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024


def document_store(var_dir: Path) -> uploads.DocumentStore:
    """The shared store of uploaded documents, outside the web root (`<var_dir>/uploads`)."""
    return uploads.DocumentStore(var_dir / "uploads")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who files: the person (phone pages), a clerk at the counter, or an institution (2501)."""

    channel: Channel
    actor_type: str
    actor_id: str
    name: str
    role: str
    office: str = ""
    reason: str = "filing"  # the audit record's reason; the counter's is a lookup reason

    @property
    def label(self) -> str:
        return f"{self.actor_type}:{self.actor_id}"[:60]


def person_actor(person_id: int, name: str) -> Actor:
    return Actor(Channel.APP, ActorType.PERSON.value, str(person_id), name, "insured_person")


COUNTER_ROLES = frozenset({"clerk", "admin"})


def staff_actor(staff: StaffActor) -> Actor:
    """A clerk filing for a person who came to the counter."""
    if not staff.roles & COUNTER_ROLES:
        raise FilingNotAllowed("只有经办人员可以在窗口办理异地就医备案")
    return Actor(
        Channel.COUNTER,
        ActorType.STAFF.value,
        str(staff.staff_id),
        staff.name,
        staff.role,
        staff.office,
        "counter_visit",
    )


def institution_actor(fixmedins_code: str, name: str) -> Actor:
    return Actor(
        Channel.INSTITUTION,
        ActorType.PARTNER.value,
        fixmedins_code,
        name or fixmedins_code,
        "institution",
        fixmedins_code,
    )


@dataclass(frozen=True, slots=True)
class Upload:
    filename: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Application:
    """What the person (or the clerk, or the institution) asks for."""

    kind: FilingKind
    treatment_admdvs: str
    treatment_name: str
    begins: date
    document_kind: DocumentKind | None = None
    # A declaration's words, or the referral's number and reason; kept with the 备案.
    document_note: str = ""
    referral_medins_code: str | None = None
    upload: Upload | None = field(default=None, repr=False)


async def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    person_id: int,
    detail: dict[str, Any],
    clock: Clock,
) -> None:
    await audit_repository.record(
        session,
        actor_type=actor.actor_type,
        actor_id=actor.actor_id,
        actor_name=actor.name,
        role=actor.role,
        office=actor.office,
        action=action,
        subject_person_id=person_id,
        reason=actor.reason,
        detail=detail,
        now=clock.now(),
    )


async def _insured(session: AsyncSession, person_id: int) -> tuple[str, bool]:
    """The person's insured region and whether they are retired; refuses who is not insured."""
    enrolment = await enrolment_repository.main_enrolment(session, person_id)
    if enrolment is None:
        if await enrolment_repository.person(session, person_id) is None:
            raise UnknownPerson("没有这个参保人")
        raise FilingNotAllowed("没有基本医疗保险参保记录，不能办理异地就医备案")
    if enrolment.status != EnrolmentStatus.NORMAL:
        raise FilingNotAllowed("参保状态不是正常参保，不能办理异地就医备案")
    return enrolment.admdvs, is_retired(enrolment.psn_type)


def _check_application(application: Application) -> Application:
    admdvs = check_admdvs(application.treatment_admdvs)
    name = check_text(application.treatment_name, "treatment_name 就医地名称", 60)
    note = check_text(application.document_note, "document_note 说明", 200, required=False)
    referral = application.referral_medins_code
    if referral is not None:
        referral = check_text(referral, "referral_medins_code 转出医院编码", 30, required=False)
    document_kind = application.document_kind
    if application.upload is not None:
        document_kind = DocumentKind.UPLOAD
    if document_kind is DocumentKind.DECLARATION and not note:
        raise InvalidFiling("document_note 个人承诺需要写明居住或工作地址")
    return Application(
        kind=application.kind,
        treatment_admdvs=admdvs,
        treatment_name=name,
        begins=application.begins,
        document_kind=document_kind,
        document_note=note,
        referral_medins_code=referral or None,
        upload=application.upload,
    )


def new_serial(today: date) -> str:
    return f"BA{today:%Y%m%d}{secrets.token_hex(6).upper()}"


async def _new_filing(
    session: AsyncSession,
    clock: Clock,
    store: uploads.DocumentStore | None,
    actor: Actor,
    person_id: int,
    application: Application,
    *,
    replacing: Filing | None = None,
) -> tuple[Filing, str | None]:
    """Checks and adds a 备案 (and its upload) without committing; answers the stored file's name
    so a failed commit can remove it."""
    application = _check_application(application)
    today = china_today(clock)
    if not await repository.lock_person(session, person_id):
        raise UnknownPerson("没有这个参保人")
    insured_admdvs, retired = await _insured(session, person_id)
    rules = await repository.rules_of(session, insured_admdvs)
    ends = check_new_filing(
        kind=application.kind,
        insured_admdvs=insured_admdvs,
        treatment_admdvs=application.treatment_admdvs,
        begins=application.begins,
        today=today,
        retired=retired,
        rules=rules,
        document_kind=application.document_kind,
        referral_medins_code=application.referral_medins_code,
    )
    check_no_conflict(
        kind=application.kind,
        treatment_admdvs=application.treatment_admdvs,
        begins=application.begins,
        ends=ends,
        existing=await repository.filings_of(session, person_id),
        today=today,
        replacing=replacing.id if replacing else None,
    )
    cleaned: uploads.CleanDocument | None = None
    if application.upload is not None:
        if store is None:
            raise InvalidFiling("document 此渠道不能上传文件")
        cleaned = uploads.clean(application.upload.data, max_bytes=MAX_DOCUMENT_BYTES)
    filing = await repository.add_filing(
        session,
        FilingRow(
            person_id=person_id,
            kind=application.kind.value,
            insured_admdvs=insured_admdvs,
            treatment_admdvs=application.treatment_admdvs,
            treatment_name=application.treatment_name,
            begins=application.begins,
            ends=ends,
            state=FilingState.ACTIVE.value,
            channel=actor.channel.value,
            document_kind=application.document_kind.value if application.document_kind else None,
            document_note=application.document_note,
            referral_medins_code=application.referral_medins_code,
            replaces_id=replacing.id if replacing else None,
            serial=new_serial(today),
            created_at=clock.now(),
            created_by=actor.label,
        ),
    )
    stored_name: str | None = None
    if cleaned is not None and store is not None and application.upload is not None:
        stored = await store.save(cleaned)
        stored_name = stored.storage_name
        await repository.add_document(
            session,
            FilingDocument(
                filing_id=filing.id,
                label=uploads.label(application.upload.filename),
                content_type=stored.content_type.value,
                size_bytes=stored.size_bytes,
                sha256=stored.sha256,
                storage_name=stored.storage_name,
                uploaded_at=clock.now(),
            ),
        )
    return filing, stored_name


def _tell(actor: Actor, filing: Filing, verb: str, clock: Clock) -> list[NewMessage]:
    """The in-app message for a change the person did not make themselves."""
    if actor.channel is Channel.APP:
        return []
    by = "医保经办窗口" if actor.channel is Channel.COUNTER else actor.name
    body = (
        f"{by}已为您{verb}异地就医备案：{KIND_NAMES[filing.kind]}，就医地{filing.treatment_name}，"
        f"{filing.begins.isoformat()}起"
        + (f"至{filing.ends.isoformat()}。" if filing.ends else "长期有效。")
        + "如有疑问请致电12393。"
    )
    key = f"filing:{filing.id}:{verb}:inapp"
    return [
        NewMessage(
            NoticeChannel.INAPP, key, filing.person_id, f"异地就医备案已{verb}", body, clock.now()
        )
    ]


def _detail(filing: Filing) -> dict[str, Any]:
    return {
        "filing": filing.id,
        "kind": filing.kind.value,
        "treatment_admdvs": filing.treatment_admdvs,
        "begins": filing.begins.isoformat(),
        "ends": filing.ends.isoformat() if filing.ends else None,
        "channel": filing.channel.value,
    }


async def _commit_or_forget(
    session: AsyncSession, store: uploads.DocumentStore | None, stored_name: str | None
) -> None:
    try:
        await session.commit()
    except BaseException:
        await session.rollback()
        if store is not None and stored_name is not None:
            await store.remove(stored_name)
        raise


async def file(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    person_id: int,
    application: Application,
    *,
    store: uploads.DocumentStore | None = None,
) -> Filing:
    """A new 备案, in effect from its first day (online 备案 are 承诺制: no review step)."""
    try:
        filing, stored_name = await _new_filing(
            session, clock, store, actor, person_id, application
        )
        await _audit(session, actor, "filings.filed", person_id, _detail(filing), clock)
        notifications_repository.add_new(session, _tell(actor, filing, "办理", clock))
    except BaseException:
        await session.rollback()
        raise
    await _commit_or_forget(session, store, stored_name)
    return filing


async def _person_by_psn_no(session: AsyncSession, psn_no: str) -> int:
    person = await enrolment_repository.person_by_psn_no(session, psn_no)
    if person is None:
        raise UnknownPerson("psn_no 没有这个参保人")
    return person.id


async def file_for_institution_in(
    session: AsyncSession, clock: Clock, actor: Actor, psn_no: str, application: Application
) -> Filing:
    """A 转院备案 an institution files for its patient, on the message's session without
    committing (the interface commits it with its answer, once per msgid)."""
    person_id = await _person_by_psn_no(session, psn_no)
    filing, _ = await _new_filing(session, clock, None, actor, person_id, application)
    await _audit(session, actor, "filings.filed", person_id, _detail(filing), clock)
    notifications_repository.add_new(session, _tell(actor, filing, "办理", clock))
    return filing


async def cancel_for_institution_in(
    session: AsyncSession, clock: Clock, actor: Actor, psn_no: str, serial: str, reason: str
) -> Filing:
    """Cancels a 备案 the same institution filed, found by its serial; without committing.
    Another institution's, another person's or an unknown serial answer alike: no such 备案."""
    person_id = await _person_by_psn_no(session, psn_no)
    row = await repository.filing_by_serial(session, serial, lock=True)
    if row is None or row.person_id != person_id or row.created_by != actor.label:
        raise UnknownFiling("没有这份备案（待遇申报明细流水号、人员编号或申报机构不符）")
    return await _cancel_row(session, clock, actor, row, reason)


async def _owned(session: AsyncSession, person_id: int, filing_id: int) -> FilingRow:
    row = await repository.filing_row(session, filing_id, lock=True)
    if row.person_id != person_id:
        raise UnknownFiling("没有这份备案")  # another person's 备案 answers as missing
    return row


def _end(row: FilingRow, state: FilingState, actor: Actor, reason: str, clock: Clock) -> None:
    row.state = state.value
    row.ended_at = clock.now()
    row.ended_by = actor.label
    row.end_reason = reason or None


async def _cancel_row(
    session: AsyncSession, clock: Clock, actor: Actor, row: FilingRow, reason: str
) -> Filing:
    reason = check_text(reason, "reason 撤销原因", 200, required=False)
    filing = repository.to_filing(row)
    rules = await repository.rules_of(session, row.insured_admdvs)
    check_may_end(filing, china_today(clock), rules, "撤销")
    _end(row, FilingState.CANCELLED, actor, reason, clock)
    await session.flush()
    await _audit(
        session,
        actor,
        "filings.cancelled",
        row.person_id,
        {**_detail(filing), "reason": reason},
        clock,
    )
    notifications_repository.add_new(session, _tell(actor, filing, "撤销", clock))
    return repository.to_filing(row)


async def cancel(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    person_id: int,
    filing_id: int,
    reason: str,
) -> Filing:
    """撤销: ends an active 备案 (a long-term one only after the region's minimum)."""
    try:
        row = await _owned(session, person_id, filing_id)
        done = await _cancel_row(session, clock, actor, row, reason)
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return done


async def change(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    person_id: int,
    filing_id: int,
    application: Application,
    *,
    store: uploads.DocumentStore | None = None,
) -> Filing:
    """变更: the old 备案 becomes 已变更 and a new one takes its place, in one commit."""
    try:
        row = await _owned(session, person_id, filing_id)
        old = repository.to_filing(row)
        rules = await repository.rules_of(session, row.insured_admdvs)
        check_may_end(old, china_today(clock), rules, "变更")
        new, stored_name = await _new_filing(
            session, clock, store, actor, person_id, application, replacing=old
        )
        _end(row, FilingState.CHANGED, actor, f"变更为备案 {new.id}", clock)
        await session.flush()
        await _audit(
            session,
            actor,
            "filings.changed",
            person_id,
            {**_detail(new), "replaces": old.id},
            clock,
        )
        notifications_repository.add_new(session, _tell(actor, new, "变更", clock))
    except BaseException:
        await session.rollback()
        raise
    await _commit_or_forget(session, store, stored_name)
    return new


async def filings_of(session: AsyncSession, person_id: int) -> list[Filing]:
    return await repository.filings_of(session, person_id)


async def filing_of(session: AsyncSession, person_id: int, filing_id: int) -> Filing:
    row = await repository.filing_row(session, filing_id)
    if row.person_id != person_id:
        raise UnknownFiling("没有这份备案")
    return repository.to_filing(row)


async def documents_of(
    session: AsyncSession, person_id: int, filing_id: int
) -> list[FilingDocument]:
    await filing_of(session, person_id, filing_id)
    return await repository.documents_of(session, filing_id)


@dataclass(frozen=True, slots=True)
class CounterView:
    person_name: str
    filings: list[Filing]
    rules: RegionFilingRules | None  # None: not insured (nothing can be filed)


async def filings_for_staff(
    session: AsyncSession, clock: Clock, staff: StaffActor, person_id: int, reason: str
) -> CounterView:
    """The person's 备案 at the counter, recorded on their 查询记录 before it is shown."""
    if not staff.roles & COUNTER_ROLES:
        raise FilingNotAllowed("只有经办人员可以查看异地就医备案")
    if reason not in LOOKUP_REASONS:
        raise LookupReasonRequired("请先选择查询事由")
    person = await enrolment_repository.person(session, person_id)
    if person is None:
        raise UnknownPerson("没有找到该参保人")
    await audit_repository.record_staff_action(
        session, staff, "filings.view", person_id, reason, {}, clock.now()
    )
    enrolment = await enrolment_repository.main_enrolment(session, person_id)
    rules = await repository.rules_of(session, enrolment.admdvs) if enrolment else None
    view = CounterView(person.name, await repository.filings_of(session, person_id), rules)
    await session.commit()
    return view


async def rules_for_person(session: AsyncSession, person_id: int) -> RegionFilingRules:
    insured_admdvs, _ = await _insured(session, person_id)
    return await repository.rules_of(session, insured_admdvs)


async def rules_of(session: AsyncSession, admdvs: str) -> RegionFilingRules:
    return await repository.rules_of(session, admdvs)


async def set_rules(
    session: AsyncSession,
    clock: Clock,
    staff: StaffActor | None,
    admdvs: str,
    rules: RegionFilingRules,
) -> None:
    """A region's 备案 settings: an admin, or (`staff` None) the operator's CLI; audited either
    way (the CLI as the system actor `cli`)."""
    if staff is not None and "admin" not in staff.roles:
        raise FilingNotAllowed("只有管理员可以修改地区的备案规则")
    await enrolment_repository.region(session, admdvs)  # refuses an unknown region
    if not rules.allowed_kinds:
        raise InvalidFiling("allowed_kinds 至少要受理一种备案类型")
    detail = {
        "admdvs": admdvs,
        "allowed_kinds": sorted(k.value for k in rules.allowed_kinds),
        "change_after_months": rules.change_after_months,
        "temporary_months": rules.temporary_months,
        "emergency_backdate_days": rules.emergency_backdate_days,
    }
    by = f"staff:{staff.staff_id}" if staff else "cli"
    try:
        await repository.put_rules(session, admdvs, rules, by, clock.now())
        if staff is not None:
            await audit_repository.record_staff_action(
                session, staff, "filings.rules_set", None, "filing_rules", detail, clock.now()
            )
        else:
            await audit_repository.record(
                session,
                actor_type=ActorType.SYSTEM.value,
                actor_id="cli",
                actor_name="命令行",
                role="operator",
                office="",
                action="filings.rules_set",
                subject_person_id=None,
                reason="filing_rules",
                detail=detail,
                now=clock.now(),
            )
        await session.commit()
    except BaseException:
        await session.rollback()
        raise


__all__ = [
    "Actor",
    "Application",
    "FilingConflict",
    "Upload",
    "cancel",
    "cancel_for_institution_in",
    "change",
    "document_store",
    "file",
    "file_for_institution_in",
    "filing_of",
    "filings_of",
    "institution_actor",
    "person_actor",
    "rules_of",
    "set_rules",
    "staff_actor",
]
