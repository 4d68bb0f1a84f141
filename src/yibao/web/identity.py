"""Wires identity into the app: the principal middleware and the sign-in routers."""

from __future__ import annotations

from fastapi import FastAPI

from yibao.web.api import auth as auth_api
from yibao.web.pages import signin, signup
from yibao.web.sessions import IdentityMiddleware
from yibao.web.staff import signin as staff_signin


def install_identity(app: FastAPI) -> None:
    app.add_middleware(IdentityMiddleware)
    app.include_router(signin.router)
    app.include_router(signup.router)
    app.include_router(staff_signin.router)
    app.include_router(auth_api.router)
