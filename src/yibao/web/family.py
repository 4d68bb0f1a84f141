"""Wires 家庭共济 into the app: the JSON API, the phone pages and the staff pages."""

from __future__ import annotations

from fastapi import FastAPI

from yibao.web.api import family as family_api
from yibao.web.pages import family as family_pages
from yibao.web.staff import family as family_staff


def install_family(app: FastAPI) -> None:
    app.include_router(family_api.router)
    app.include_router(family_pages.router)
    app.include_router(family_staff.router)
