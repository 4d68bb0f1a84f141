"""The self-service kiosk (自助查询机): pages at /kiosk for a shared touch screen, the API its
card-reader bridge calls, and the bridge itself (`bridge/`, which runs on the kiosk)."""

from fastapi import APIRouter

from yibao.web.kiosk import device, identify, printing, reads

router = APIRouter()
router.include_router(device.router)
router.include_router(identify.router)
router.include_router(reads.router)
router.include_router(printing.router)
