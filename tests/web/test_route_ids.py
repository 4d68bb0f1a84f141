"""Every int a route takes from the path or the query is bounded: 2**63 (past BIGINT) and -1 are
refused as bad input, never a 500, on every route, signed in as a person and as staff."""

from __future__ import annotations

import types
from collections.abc import AsyncIterator
from typing import Any, Union, get_args, get_origin

import httpx
import pytest
from annotated_types import Ge, Le
from fastapi import FastAPI
from fastapi.routing import APIRoute

from tests.support.claims import two_people
from tests.support.principals import install_test_principals, staff_header, with_csrf
from tests.support.routes import app_routes, concrete, is_staff, methods
from yibao.runtime import Runtime
from yibao.web.ids import MAX_ROW_ID

# Query numbers that are no row id (a switch, a page size the route clamps): still tried below.
NOT_IDS = {("/settings/elder", "on"), ("/login", "signed_out"), ("/account/consumption", "size")}
PERSON = {"x-test-person": "1;stepped"}
STAFF = staff_header(1, "张建华", "clerk,reviewer,admin", "徐汇区医保中心")


@pytest.fixture
async def app_and_client(runtime: Runtime) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    from yibao.web.app import create_app

    app = create_app(runtime=runtime)
    install_test_principals(app)
    # A 500 comes back as a response to assert on, not as the exception behind it.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield app, with_csrf(c)


def _is_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        return int in get_args(annotation)
    return False


def _int_params(route: APIRoute) -> list[tuple[str, str, Any]]:
    """(where, name, field) of every int the route reads from its path or query."""
    return [
        (where, p.name, p)
        for where, params in (
            ("path", route.dependant.path_params),
            ("query", route.dependant.query_params),
        )
        for p in params
        if _is_int(p.field_info.annotation)
    ]


def _bounded(field: Any) -> bool:
    lows = [m.ge for m in field.field_info.metadata if isinstance(m, Ge)]
    highs = [m.le for m in field.field_info.metadata if isinstance(m, Le)]
    return bool(lows and highs) and min(lows) >= 0 and max(highs) <= MAX_ROW_ID


def test_every_id_a_route_takes_is_bounded(runtime: Runtime) -> None:
    from yibao.web.app import create_app

    routes = app_routes(create_app(runtime=runtime))
    unbounded = [
        (route.path, name)
        for route in routes
        for where, name, field in _int_params(route)
        if (route.path, name) not in NOT_IDS and not _bounded(field)
    ]
    assert not unbounded, f"declare these ids with yibao.web.ids (RowId…): {unbounded}"
    # RowId is for the path: a query parameter declared with it would be asked for in the path.
    misplaced = [
        (route.path, p.name)
        for route in routes
        for p in route.dependant.path_params
        if "{" + p.name not in route.path
    ]
    assert not misplaced, f"use RowIdQuery or RequiredRowIdQuery for these: {misplaced}"


async def test_no_route_answers_a_huge_or_negative_id_with_a_500(
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_and_client
    tried = 0
    for route in app_routes(app):
        headers = STAFF if is_staff(route) else PERSON
        for where, name, _ in _int_params(route):
            for value in (2**63, -1):
                if where == "path":
                    path, params = concrete(route.path, **{name: value}), {}
                else:
                    path, params = concrete(route.path), {name: str(value)}
                for method in methods(route):
                    response = await client.request(method, path, params=params, headers=headers)
                    assert response.status_code < 500, (method, path, params, response.text[:200])
                    if name not in {n for _, n in NOT_IDS}:
                        assert response.status_code == 422, (method, path, params)
                    tried += 1
    assert tried > 80


async def test_ids_typed_into_staff_forms_are_bounded_too(
    app_and_client: tuple[FastAPI, httpx.AsyncClient], runtime: Runtime
) -> None:
    _, client = app_and_client
    owner, _, _ = await two_people(runtime)  # a person with an account: the entry is looked up
    for person_id, entry_id in (
        (str(2**63), "1"),
        (str(owner), str(2**63)),
        (str(owner), "²"),  # a digit to str.isdigit, not to int
        ("-1", "1"),
    ):
        response = await client.post(
            "/staff/adjustments",
            data={
                "person_id": person_id,
                "kind": "reversal",
                "entry_id": entry_id,
                "reason": "记账有误需冲正",
            },
            headers=STAFF,
        )
        assert response.status_code == 422, (person_id, entry_id, response.text[:200])
