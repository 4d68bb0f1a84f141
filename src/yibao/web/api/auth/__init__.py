"""The JSON API of identity: /api/v1/auth/… with bearer tokens (never cookies)."""

from fastapi import APIRouter

from yibao.web.api.auth import accounts, passkeys

router = APIRouter()
router.include_router(accounts.router)
router.include_router(passkeys.router)

__all__ = ["router"]
