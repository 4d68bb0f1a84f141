"""Errors in business words. Each has a stable `code`; the edges (web, fsi, cli) translate them."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the business refused the request. `code` is stable; the message is for people."""

    code: str = "domain_error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    code = "not_found"


class InvalidInput(DomainError):
    code = "invalid_input"


class Conflict(DomainError):
    code = "conflict"


class PermissionDenied(DomainError):
    code = "permission_denied"
