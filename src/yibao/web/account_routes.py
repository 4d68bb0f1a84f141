"""The person's account channel (issue #4) as one router: pages, downloads, switches, JSON API."""

from __future__ import annotations

from fastapi import APIRouter

from yibao.web.api import account as account_api
from yibao.web.pages import account, exports, preferences

router = APIRouter()
# The JSON API first: routes are matched one by one, and it is what phones ask most.
router.include_router(account_api.router)
router.include_router(preferences.router)
router.include_router(account.router)
router.include_router(exports.router)
