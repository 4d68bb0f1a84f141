"""A claim's PDF document with an escaped action name is refused through the HTTP upload."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.claims import claim_form, two_people
from tests.support.documents import jpeg_with_exif, pdf
from tests.support.principals import install_test_principals
from yibao.runtime import Runtime


@pytest.fixture
async def api(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    from yibao.web.app import create_app

    app = create_app(runtime=runtime)
    install_test_principals(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.mark.parametrize(
    "body",
    [
        b"/Type /Catalog /Open#41ction 4 0 R",
        b"/S /J#61vaScript /J#53 (app.alert(1))",
        b"/#45mbedded#46iles 5 0 R",
    ],
)
async def test_escaped_action_names_are_refused_and_nothing_is_kept(
    api: httpx.AsyncClient, runtime: Runtime, body: bytes
) -> None:
    me, _, _ = await two_people(runtime)
    mine = {"x-test-person": str(me)}
    files = [
        ("invoice", ("发票.jpg", jpeg_with_exif(), "image/jpeg")),
        ("diagnosis_doc", ("诊断.pdf", pdf(b"3 0 obj << " + body + b" >> endobj\n"), "x/y")),
    ]
    response = await api.post("/api/v1/claims", data=claim_form(runtime), files=files, headers=mine)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "upload_refused" and "脚本" in error["message"]
    assert (await api.get("/api/v1/claims", headers=mine)).json() == []
    stored = runtime.settings.var_dir / "uploads"
    assert not stored.exists() or not any(p.is_file() for p in stored.rglob("*"))
