"""The JSON API of claims (报销), disputes (争议) and 查询记录, for the person signed in.

Every route takes the person from the principal, never from the URL: another person's claim,
document or dispute id answers 404 like one that does not exist.

The package splits along the seams of a request: `forms` (what is posted, shared with the
pages), `views` (what is answered), `documents` (the stored files) and `routes`.
"""

from yibao.web.api.claims.documents import (
    claim_attachment_response,
    document_response,
    document_store,
)
from yibao.web.api.claims.forms import draft_from_form, parse_amount, read_uploads
from yibao.web.api.claims.routes import router
from yibao.web.api.claims.views import step_out

__all__ = [
    "claim_attachment_response",
    "document_response",
    "document_store",
    "draft_from_form",
    "parse_amount",
    "read_uploads",
    "router",
    "step_out",
]
