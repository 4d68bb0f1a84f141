"""消息 (in-app notices) as one router: the phone's pages and the JSON API."""

from __future__ import annotations

from fastapi import APIRouter

from yibao.web.api import notices as notices_api
from yibao.web.pages import messages

router = APIRouter()
router.include_router(messages.router)
router.include_router(notices_api.router)
