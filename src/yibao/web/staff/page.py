"""What every workbench page shares: the names its templates show, the acting staff member,
rendering, and the router settings (prefix /staff, CSRF on every form)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from yibao.audit.domain import ACTION_NAMES, LOOKUP_KEYS, LOOKUP_REASONS, ROLE_NAMES
from yibao.claims.domain import (
    ATTACHMENT_NAMES,
    DISPUTE_OUTCOMES,
    DISPUTE_STATUS_NAMES,
    EVENT_NAMES,
    MED_TYPES,
    NOT_SETTLED_REASONS,
    REJECTION_REASONS,
    STATUS_NAMES,
)
from yibao.enrolment.domain import ENROLMENT_STATUS_NAMES, INSUTYPE_NAMES, PSN_TYPE_NAMES
from yibao.kernel.actors import StaffActor
from yibao.ledger.domain import ENTRY_KIND_NAMES
from yibao.web.auth import StaffPrincipal

Text = Annotated[str, Form(max_length=500)]

NAMES: dict[str, Any] = {
    "lookup_reasons": LOOKUP_REASONS,
    "lookup_keys": LOOKUP_KEYS,
    "status_names": STATUS_NAMES,
    "event_names": EVENT_NAMES,
    "med_types": MED_TYPES,
    "not_settled_reasons": NOT_SETTLED_REASONS,
    "attachment_names": ATTACHMENT_NAMES,
    "rejection_reasons": REJECTION_REASONS,
    "dispute_status_names": DISPUTE_STATUS_NAMES,
    "dispute_outcomes": DISPUTE_OUTCOMES,
    "insutype_names": INSUTYPE_NAMES,
    "psn_type_names": PSN_TYPE_NAMES,
    "enrolment_status_names": ENROLMENT_STATUS_NAMES,
    "entry_kind_names": {k.value: v for k, v in ENTRY_KIND_NAMES.items()},
    "action_names": ACTION_NAMES,
    "role_names": ROLE_NAMES,
}


def actor(staff: StaffPrincipal) -> StaffActor:
    return StaffActor(staff.staff_id, staff.name, staff.roles, staff.office)


def page(
    request: Request, template: str, staff: StaffPrincipal, status: int = 200, **context: Any
) -> HTMLResponse:
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, template, {**NAMES, "staff": staff, **context}, status_code=status
    )
    return response


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)
