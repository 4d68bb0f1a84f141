"""Rules of identity (sign-up, sign-in, verification, sessions, staff).

The identity issue fills this in; the errors below are the contract every channel relies on:
`Unauthenticated` (no valid session or token: pages send the person to sign in and back) and
`StepUpRequired` (signed in, but account details need a fresh verification: pages send the
person to verify and back).
"""

from __future__ import annotations

from yibao.kernel.errors import DomainError, PermissionDenied


class Unauthenticated(DomainError):
    code = "unauthenticated"


class StepUpRequired(DomainError):
    code = "step_up_required"


class StaffRoleRequired(PermissionDenied):
    code = "staff_role_required"
