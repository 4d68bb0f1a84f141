import httpx


async def test_home_and_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert "医保个人账户" in response.text
    assert (await client.get("/healthz")).json() == {"status": "ok"}


async def test_unknown_page_is_a_page_not_a_trace(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere")
    assert response.status_code == 404
    assert "页面不存在" in response.text
    api = await client.get("/api/v1/nowhere")
    assert api.status_code == 404 and api.json()["error"]["code"] == "http_404"
