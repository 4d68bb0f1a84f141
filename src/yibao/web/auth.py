"""Who is calling: the dependencies every route uses to know the person or the staff member.

Contract for every channel's routes:
- `current_person` — a signed-in insured person (cookie session on pages, bearer token on the API),
  or `Unauthenticated`.
- `stepped_up_person` — the same, with a verification (SMS code, card password, passkey) still
  fresh on this session, or `StepUpRequired`.
- `current_staff` — a staff member signed in with the second factor, or `Unauthenticated`.
They are `async def`: FastAPI runs a plain `def` dependency in a worker thread, a hop every
request would pay. Routes take only `person_id` from the principal, never from the URL, so one person cannot reach
another's data (IDOR). The identity feature sets `request.state.principal` in its middleware.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from yibao.identity.domain import StaffRoleRequired, StepUpRequired, Unauthenticated


@dataclass(frozen=True, slots=True)
class PersonPrincipal:
    person_id: int
    account_id: int  # the online account (identity's user), not the personal account
    session_id: str
    step_up_until: datetime | None
    via: str  # "cookie" | "bearer"


@dataclass(frozen=True, slots=True)
class StaffPrincipal:
    staff_id: int
    username: str
    name: str
    roles: frozenset[str]
    office: str
    session_id: str


async def current_person(request: Request) -> PersonPrincipal:
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, PersonPrincipal):
        raise Unauthenticated("请先登录")
    return principal


async def stepped_up_person(request: Request) -> PersonPrincipal:
    principal = await current_person(request)
    now = request.app.state.runtime.clock.now()
    if principal.step_up_until is None or principal.step_up_until <= now:
        raise StepUpRequired("查看账户明细前，请再次验证身份")
    return principal


async def current_staff(request: Request) -> StaffPrincipal:
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, StaffPrincipal):
        raise Unauthenticated("请先登录经办系统")
    return principal


def require_role(*roles: str):  # type: ignore[no-untyped-def]
    """A dependency that lets through staff holding any of `roles`."""

    # Through Depends, not a direct call: one staff check per request, whoever provides it.
    async def _check(staff: Annotated[StaffPrincipal, Depends(current_staff)]) -> StaffPrincipal:
        if not staff.roles & set(roles):
            raise StaffRoleRequired("您的岗位无权办理此业务")
        return staff

    return _check


PersonDep = Annotated[PersonPrincipal, Depends(current_person)]
SteppedUpPersonDep = Annotated[PersonPrincipal, Depends(stepped_up_person)]
StaffDep = Annotated[StaffPrincipal, Depends(current_staff)]
