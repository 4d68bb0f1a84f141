"""Every route the app serves, for tests that must try them all.

With the FastAPI release a fresh install gets, `app.routes` holds the included routers
themselves (included lazily), not their routes, so a walk of `app.routes` sees only `/healthz`
and passes whatever the routers hold. This walks every module of the delivery packages for its
`APIRouter`s instead and checks the walk against the app's own OpenAPI document, so a router
the walk missed fails the test that uses it rather than shrinking it.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from types import ModuleType

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

import yibao.fsi
import yibao.web

ROUTE_PACKAGES: tuple[ModuleType, ...] = (yibao.web, yibao.fsi)


def _modules() -> Iterator[ModuleType]:
    for package in ROUTE_PACKAGES:
        yield package
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            yield importlib.import_module(info.name)


def app_routes(app: FastAPI) -> list[APIRoute]:
    """Every APIRoute of every router under yibao.web and yibao.fsi, and the app's own."""
    found: dict[tuple[str, str], APIRoute] = {}
    routers = [r for m in _modules() for r in vars(m).values() if isinstance(r, APIRouter)]
    for routes in [app.router.routes, *(r.routes for r in routers)]:
        for route in routes:
            if isinstance(route, APIRoute):
                found[(route.path, ",".join(sorted(route.methods)))] = route
    routes = list(found.values())
    documented = {
        (path, method.upper())
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    walked = {(r.path, m) for r in routes for m in r.methods}
    missing = documented - walked
    assert not missing, f"the route walk missed routes the app serves: {sorted(missing)}"
    return routes


def methods(route: APIRoute) -> list[str]:
    return sorted(route.methods - {"HEAD"})


def concrete(path: str, value: object = 1, **values: object) -> str:
    """The path with every `{param}` filled: by name from `values`, else with `value`."""
    return re.sub(r"\{([^}:]+)(?::[^}]*)?\}", lambda m: str(values.get(m.group(1), value)), path)


def is_staff(route: APIRoute) -> bool:
    return route.path == "/staff" or route.path.startswith("/staff/")
