"""Who acts on behalf of the insurance office: a staff member with roles, at an office."""

from __future__ import annotations

from dataclasses import dataclass

# Most specific first: the role an audit record names when a member holds several.
ROLE_ORDER = ("admin", "reviewer", "clerk")


@dataclass(frozen=True, slots=True)
class StaffActor:
    staff_id: int
    name: str
    roles: frozenset[str]
    office: str

    @property
    def role(self) -> str:
        for role in ROLE_ORDER:
            if role in self.roles:
                return role
        return next(iter(sorted(self.roles)), "staff")
