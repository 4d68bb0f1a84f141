"""A real server for browser tests: uvicorn in a subprocess on a free port, on a migrated SQLite."""

from __future__ import annotations

import base64
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.leaks import find_leaks
from yibao.config import Settings
from yibao.db.migrate import upgrade
from yibao_bench.server import free_port, uvicorn_command

BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass
class LiveServer:
    base_url: str
    settings: Settings


@contextmanager
def live_server(
    tmp: Path, *, database_url: str | None = None, data_key: str | None = None, **env: str
) -> Iterator[LiveServer]:
    """`database_url`: a migrated database to serve (PostgreSQL too), with the `data_key` its
    sealed data was written with; by default a fresh SQLite file in `tmp`."""
    url = database_url or f"sqlite+aiosqlite:///{tmp / 'live.sqlite3'}"
    if database_url is None:
        upgrade(url)
    port = free_port()
    variables = {
        "YIBAO_DATABASE_URL": url,
        "YIBAO_DATA_KEY": data_key or base64.b64encode(b"L" * 32).decode(),
        "YIBAO_SECRET_KEY": "live-secret-" + "y" * 20,
        "YIBAO_ENVIRONMENT": "development",
        "YIBAO_VAR_DIR": str(tmp / "var"),
        **env,
    }
    settings = Settings(
        environment="development",
        database_url=url,
        data_key=variables["YIBAO_DATA_KEY"],
        secret_key=variables["YIBAO_SECRET_KEY"],
        var_dir=tmp / "var",
        _env_file=None,  # type: ignore[call-arg]
    )
    log = (tmp / "server.log").open("w")
    process = subprocess.Popen(
        uvicorn_command(port, workers=1),
        env={**os.environ, **variables},
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp,
    )
    base = f"http://localhost:{port}"
    try:
        # Generous: on a loaded 2-core machine the first start (imports, catalogues) took 20-40 s.
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp / "server.log").read_text())
            time.sleep(0.2)
        yield LiveServer(base_url=base, settings=settings)
        leaks = find_leaks((tmp / "server.log").read_text())
        assert not leaks, "\n".join(leaks)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
