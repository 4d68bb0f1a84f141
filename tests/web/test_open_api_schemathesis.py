"""Schemathesis over the partner API's own document (/open/v1/openapi.json): requests built from
the schema (valid and deliberately invalid) are sent without a token and with a partner token
holding every scope; none may answer with a 5xx, and every refusal is an RFC 9457 problem."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import partners as support
from tests.support.identity import member
from yibao.runtime import Runtime

EXAMPLES = 8  # per operation and generation mode


def _cases(spec: dict[str, Any]) -> list[Case]:
    schema = schemathesis.openapi.from_dict(spec)
    cases: list[Case] = []
    for result in schema.get_all_operations():
        operation = result.ok()
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

            with contextlib.suppress(Unsatisfiable):
                collect()
    return cases


async def test_no_open_api_operation_answers_a_generated_request_with_a_5xx(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    someone = await member(runtime, session)
    await session.commit()
    app = await support.app(runtime, rate_limit=100_000)
    issued = await support.tokens_for(runtime, app, someone.person_id)
    token = {"Authorization": f"Bearer {issued.access_token}"}
    spec = (await client.get("/open/v1/openapi.json")).json()
    cases = _cases(spec)
    assert len({c.operation.label for c in cases}) >= 9
    answered: set[str] = set()
    sent = 0
    for case in cases:
        for auth in ({}, token):
            kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=auth)
            request = {k: kwargs[k] for k in ("method", "url", "headers", "params") if k in kwargs}
            response = await client.request(**request)
            what = f"{'with' if auth else 'without'} token: {case.as_curl_command(headers=auth)}"
            assert response.status_code < 500, f"{what}\n{response.status_code} {response.text}"
            if response.status_code >= 400:
                assert response.headers["content-type"] == "application/problem+json", what
                problem = response.json()
                assert problem["status"] == response.status_code and problem["title"], what
            elif auth:
                answered.add(case.operation.label)
            sent += 1
    assert sent > 100
    # The token was good: reads were answered, not only refused.
    assert {"GET /open/v1/balance", "GET /open/v1/consumption", "GET /open/v1/family"} <= answered
