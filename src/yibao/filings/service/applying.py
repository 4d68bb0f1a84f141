"""Who files a 异地就医备案 and what they ask for, and the steps every use case shares.

The actors (the person, a clerk at the counter, an institution), the application and its
upload, the shared store of uploaded proofs, and the helpers the use cases in `filing` and
`rules` build on: the checks and writing of a new 备案 (`_new_filing`, without committing), the
audit record, the in-app message for a change someone else made, and the commit that forgets a
stored upload when it fails.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.audit.domain import ActorType
from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.domain import EnrolmentStatus, UnknownPerson, is_retired
from yibao.filings import repository
from yibao.filings.domain import (
    KIND_NAMES,
    Channel,
    DocumentKind,
    Filing,
    FilingKind,
    FilingNotAllowed,
    FilingState,
    InvalidFiling,
    check_admdvs,
    check_new_filing,
    check_no_conflict,
    check_text,
)
from yibao.filings.tables import FilingDocument, FilingRow
from yibao.kernel import uploads
from yibao.kernel.actors import StaffActor
from yibao.kernel.clock import Clock, china_today
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
