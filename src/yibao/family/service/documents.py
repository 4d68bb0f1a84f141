"""The documents a 家庭共济 application needs: ID or card photos and a proof of relationship,
attached before the application is submitted."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.family import repository
from yibao.family.domain import DocumentKind, InvalidDocument, Status
from yibao.family.service.common import PERSON, Staff, application_for, owned_by
from yibao.family.tables import MutualAidDocument
from yibao.kernel import uploads
from yibao.kernel.clock import Clock
from yibao.kernel.uploads import DocumentStore, DocumentType

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
PHOTO_TYPES = frozenset({DocumentType.JPEG, DocumentType.PNG})


def document_store(var_dir: Path) -> DocumentStore:
    """The shared store of uploaded documents, outside the web root (`<var_dir>/uploads`)."""
    return DocumentStore(var_dir / "uploads")


async def attach_document(
    session: AsyncSession,
    clock: Clock,
    store: DocumentStore,
    authorisation_id: int,
    kind: str,
    data: bytes,
    *,
    person_id: int | None = None,
    clerk: Staff | None = None,
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> MutualAidDocument:
    """An ID/card photo or a proof of relationship, before the application is submitted.

    The shared upload module decides the type by content and re-encodes the image; reviewers look
    at these beside the form, so only photos (JPEG, PNG) are taken here.
    """
    try:
        document_kind = DocumentKind(kind)
    except ValueError as exc:
        raise InvalidDocument("材料类型应为身份证照片或亲属关系证明") from exc
    row = await repository.authorisation(session, authorisation_id, lock=True)
    if clerk is None:
        owned_by(row, person_id)  # another person's id answers as a missing authorisation
    await application_for(session, row.application_id, person_id, clerk)
    if row.status != Status.APPLIED:
        raise InvalidDocument("申请已提交，不能再修改材料")
    cleaned = uploads.clean(data, max_bytes=max_bytes)
    if cleaned.content_type not in PHOTO_TYPES:
        raise InvalidDocument("请上传 JPG 或 PNG 格式的照片（证件和关系证明请拍照上传）")
    stored = await store.save(cleaned)
    try:
        document = MutualAidDocument(
            authorisation_id=row.id,
            kind=document_kind.value,
            content_type=stored.content_type.value,
            size_bytes=stored.size_bytes,
            sha256=stored.sha256,
            storage_name=stored.storage_name,
            uploaded_by=clerk.label if clerk else PERSON,
            uploaded_at=clock.now(),
        )
        session.add(document)
        await session.commit()
    except BaseException:
        await store.remove(stored.storage_name)
        raise
    return document
