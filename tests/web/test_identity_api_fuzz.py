"""Schemathesis-style checks of the auth API: every operation in the OpenAPI document, fed bodies
built from its own schema and then broken on purpose, answers with a JSON error and never a 500."""

from __future__ import annotations

import random
from typing import Any

import httpx

from tests.support.identity import PASSWORD, member
from yibao.runtime import Runtime

JUNK: list[Any] = [
    None,
    "",
    " ",
    "0" * 70,
    "１３８００１３８０００",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "31010419850315001X",
    "13800138000",
    "\u0000",
    "😀" * 10,
    -1,
    0,
    2**63,
    1.5,
    True,
    [],
    {},
]


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        return dict(spec["components"]["schemas"][name])
    return schema


def _bodies(spec: dict[str, Any], schema: dict[str, Any], rng: random.Random) -> list[Any]:
    schema = _resolve(spec, schema)
    props: dict[str, Any] = schema.get("properties", {})
    valid_ish: dict[str, Any] = {}
    for name, prop in props.items():
        prop = _resolve(spec, prop)
        if "enum" in prop:
            valid_ish[name] = prop["enum"][0]
        elif "const" in prop:
            valid_ish[name] = prop["const"]
        else:
            valid_ish[name] = "x"
    bodies: list[Any] = [valid_ish, {}, [], "text", 42, None]
    for _ in range(25):
        body = dict(valid_ish)
        for name in props:
            roll = rng.random()
            if roll < 0.3:
                body[name] = rng.choice(JUNK)
            elif roll < 0.4:
                body.pop(name, None)
        if rng.random() < 0.2:
            body["unexpected"] = rng.choice(JUNK)
        bodies.append(body)
    return bodies


async def _check(response: httpx.Response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["code"] and error["message"], what


async def test_auth_api_answers_bad_input_with_json_errors(
    client: httpx.AsyncClient, runtime: Runtime, session: Any
) -> None:
    someone = await member(runtime, session)
    token = (
        await client.post(
            "/api/v1/auth/tokens", json={"identifier": someone.phone, "password": PASSWORD}
        )
    ).json()["token"]
    spec = (await client.get("/api/v1/openapi.json")).json()
    rng = random.Random(20261125)
    checked = 0
    for path, operations in spec["paths"].items():
        if not path.startswith("/api/v1/auth"):
            continue
        for method, operation in operations.items():
            concrete = path.replace("{passkey_id}", str(rng.choice([1, 0, -5, 2**40])))
            body_schema = (
                operation.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema")
            )
            bodies = _bodies(spec, body_schema, rng) if body_schema else [None]
            for auth in ({}, {"Authorization": f"Bearer {token}"}, {"Authorization": "Bearer x"}):
                for body in bodies:
                    response = await client.request(
                        method.upper(), concrete, json=body, headers=auth
                    )
                    await _check(response, f"{method.upper()} {concrete} {body!r}")
                    checked += 1
                raw = await client.request(
                    method.upper(),
                    concrete,
                    content=b"{not json",
                    headers={**auth, "Content-Type": "application/json"},
                )
                await _check(raw, f"{method.upper()} {concrete} malformed JSON")
    assert checked > 500
