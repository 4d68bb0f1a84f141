"""Schemathesis over the whole JSON API (/api/v1/openapi.json): requests built from the schema
(valid and deliberately invalid) are sent without a token and with a valid, stepped-up bearer
token; none may answer with a 5xx, and every refusal is the JSON error of web/errors.py.

Examples are bounded and derandomised (a few per operation and mode), so the run is repeatable
and short. The institution interface (/fsi/…) is signed per message and has its own bad-input
tests (tests/web/test_fsi_bad_input.py).
"""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.identity import member, stepped_up_bearer
from yibao.runtime import Runtime

EXAMPLES = 5  # per operation and generation mode
# Last: these end the token the rest use.
ENDS_THE_TOKEN = ("/api/v1/auth/sign-out", "/api/v1/auth/sign-out-everywhere")


def _cases(spec: dict[str, Any]) -> list[Case]:
    schema = schemathesis.openapi.from_dict(spec)
    cases: list[Case] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/api/v1/"):
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES,
                database=None,
                derandomize=True,
                deadline=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(operation.as_strategy(mode))
            def collect(case: Case) -> None:
                cases.append(case)

            # Unsatisfiable: nothing invalid to send to an operation without parameters.
            with contextlib.suppress(Unsatisfiable):
                collect()
    return sorted(cases, key=lambda c: c.operation.path.startswith(ENDS_THE_TOKEN))


def _httpx(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Schemathesis serialises for `requests`; the same request for httpx."""
    out = {k: kwargs[k] for k in ("method", "url", "headers", "params") if k in kwargs}
    if kwargs.get("cookies"):
        out["cookies"] = kwargs["cookies"]
    data = kwargs.get("data")
    if isinstance(data, (bytes, str)):
        out["content"] = data
    elif data is not None:
        out["data"] = data
    if "json" in kwargs:
        out["json"] = kwargs["json"]
    if kwargs.get("files"):
        out["files"] = kwargs["files"]
    return out


async def test_no_api_operation_answers_a_generated_request_with_a_5xx(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    someone = await member(runtime, session)
    await session.commit()
    token = await stepped_up_bearer(client, someone.phone)
    spec = (await client.get("/api/v1/openapi.json")).json()
    cases = _cases(spec)
    assert len({c.operation.label for c in cases}) > 40
    sent = 0
    answered_with_token: set[str] = set()
    for case in cases:
        for auth in ({}, token):
            kwargs = _httpx(case.as_transport_kwargs(base_url="http://testserver", headers=auth))
            response = await client.request(**kwargs)
            what = f"{'with' if auth else 'without'} token: {case.as_curl_command(headers=auth)}"
            assert response.status_code < 500, f"{what}\n{response.status_code} {response.text}"
            if response.status_code >= 400:
                error = response.json()["error"]
                assert error["code"] and error["message"], what
            sent += 1
            if auth and response.status_code < 300:
                answered_with_token.add(case.operation.label)
    assert sent > 400
    # The token was good: the stepped-up reads were answered, not only refused.
    assert {"GET /api/v1/account", "GET /api/v1/contributions"} <= answered_with_token
    assert len(answered_with_token) > 15, sorted(answered_with_token)
