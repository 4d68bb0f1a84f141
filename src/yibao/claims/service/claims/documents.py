"""A claim's documents: cleaned, stored (and removed again if the use case fails), attached."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from yibao.claims.tables import Claim, ClaimAttachment
from yibao.kernel.uploads import CleanDocument, DocumentStore, StoredDocument, clean, label


@dataclass(frozen=True, slots=True)
class Upload:
    kind: str
    filename: str
    data: bytes


async def store_all(
    store: DocumentStore, cleaned: list[tuple[Upload, CleanDocument]]
) -> list[tuple[Upload, StoredDocument]]:
    stored: list[tuple[Upload, StoredDocument]] = []
    try:
        for upload, document in cleaned:
            stored.append((upload, await store.save(document)))
    except BaseException:
        await discard(store, stored)
        raise
    return stored


async def discard(store: DocumentStore, stored: list[tuple[Upload, StoredDocument]]) -> None:
    for _, document in stored:
        await store.remove(document.storage_name)


def attachments_of(
    claim: Claim, stored: list[tuple[Upload, StoredDocument]], now: datetime
) -> list[ClaimAttachment]:
    return [
        ClaimAttachment(
            claim_id=claim.id,
            kind=upload.kind,
            storage_name=document.storage_name,
            content_type=document.content_type.value,
            size_bytes=document.size_bytes,
            sha256=document.sha256,
            label=label(upload.filename),
            round=claim.round,
            uploaded_at=now,
        )
        for upload, document in stored
    ]


def clean_uploads(uploads: list[Upload], max_bytes: int) -> list[tuple[Upload, CleanDocument]]:
    return [(u, clean(u.data, max_bytes=max_bytes)) for u in uploads]
