"""A claim's documents: where they are stored, and how one is answered (never sniffed, never cached)."""

from __future__ import annotations

from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.claims.service import claim_reads
from yibao.claims.tables import ClaimAttachment
from yibao.kernel.uploads import DocumentStore
from yibao.runtime import Runtime


def document_store(runtime: Runtime) -> DocumentStore:
    return DocumentStore(runtime.settings.var_dir / "uploads")


async def claim_attachment_response(
    session: AsyncSession, runtime: Runtime, person_id: int, claim_id: int, attachment_id: int
) -> Response:
    attachment, data = await claim_reads.attachment_for_person(
        session, document_store(runtime), person_id, claim_id, attachment_id
    )
    return document_response(attachment, data)


def document_response(attachment: ClaimAttachment, data: bytes) -> Response:
    return Response(
        data,
        media_type=attachment.content_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'inline; filename="document-{attachment.id}"',
        },
    )
