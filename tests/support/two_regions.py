"""Two deployments in one test process, each on its own PostgreSQL database: A (深圳市 440300,
where the person is insured) and B (上海市 310000, where the institutions are). They reach each
other through httpx transports onto each other's app, signed as over the network."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.support import world
from tests.support.fsi import Institution
from tests.support.settlement_world import CATALOGUE
from yibao.config import Settings
from yibao.crossregion import service as crossregion
from yibao.crossregion.link import HttpPeerLink
from yibao.crossregion.signing import Signer, public_key_of
from yibao.db.engine import make_engine
from yibao.db.migrate import upgrade
from yibao.enrolment.service import EnrolledPerson
from yibao.filings import service as filings
from yibao.filings.domain import DocumentKind, FilingKind
from yibao.kernel.clock import china_today
from yibao.ledger import repository as ledger_repository
from yibao.runtime import Runtime, build_runtime
from yibao.settlement import service as settlement

PG_ADMIN_URL = os.environ.get(
    "YIBAO_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
HOME = "440300"  # A: 深圳市 (no deductible, 90 %): the fund's part shows in small bills
TREATMENT = "310000"  # B: 上海市
A_URL = "http://region-a.test"
B_URL = "http://region-b.test"


async def _admin(sql: str, url: str = PG_ADMIN_URL) -> None:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def two_databases(
    admins: tuple[str, str] = (PG_ADMIN_URL, PG_ADMIN_URL),
) -> Iterator[tuple[str, str]]:
    """Two migrated databases (dropped afterwards), A's on the server of `admins[0]` and B's on
    that of `admins[1]` (by default both on the tests' server); skips when PostgreSQL is
    unreachable, fails under CI=true."""
    tag = f"{os.getpid()}_{secrets.token_hex(3)}"
    names = [f"yibao_xr_a_{tag}", f"yibao_xr_b_{tag}"]
    try:
        for name, admin in zip(names, admins, strict=True):
            asyncio.run(_admin(f'CREATE DATABASE "{name}"', admin))
    except Exception as exc:  # noqa: BLE001 - any failure to reach PostgreSQL
        if IN_CI:
            pytest.fail(f"PostgreSQL unreachable at {admins} under CI=true: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {admins}: {exc}")
    urls = [admin.rsplit("/", 1)[0] + f"/{name}" for name, admin in zip(names, admins, strict=True)]
    for url in urls:
        upgrade(url)
    try:
        yield urls[0], urls[1]
    finally:
        for name, admin in zip(names, admins, strict=True):
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', admin))


async def truncate(url: str) -> None:
    """Empty every table (a module's databases are migrated once, emptied for each test)."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            rows = await conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    " AND tablename <> 'alembic_version'"
                )
            )
            tables = [r[0] for r in rows]
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


def directory_json(
    a_key: str,
    b_key: str,
    a_url: str = A_URL,
    b_url: str = B_URL,
    *,
    when_unreachable: str = "refuse",
) -> str:
    """The directory of the two deployments; `when_unreachable` is A's region's choice (refuse
    or cash) of what B does when it cannot reach A."""
    return json.dumps(
        {
            "regions": [
                {
                    "admdvs": HOME,
                    "region_name": "深圳市",
                    "deployment": "shenzhen",
                    "base_url": a_url,
                    "public_key": public_key_of(a_key),
                    "when_unreachable": when_unreachable,
                },
                {
                    "admdvs": TREATMENT,
                    "region_name": "上海市",
                    "deployment": "shanghai",
                    "base_url": b_url,
                    "public_key": public_key_of(b_key),
                },
            ]
        },
        ensure_ascii=False,
    )


def settings_for(url: str, deployment: str, key: str, var_dir: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=url,
        data_key=base64.b64encode(b"k" * 32).decode(),
        secret_key="test-secret-key-" + "x" * 16,
        var_dir=var_dir,
        peer_id=deployment,
        peer_key=key,
        peer_policy_ttl_seconds=60,
        _env_file=None,  # type: ignore[call-arg]
    )


@dataclass
class Deployments:
    a: Runtime
    b: Runtime
    a_app: Any
    b_app: Any
    person: EnrolledPerson
    id_number: str
    hospital: Institution
    pharmacy: Institution
    a_http: httpx.AsyncClient

    def link_for_b(self, a_transport: httpx.AsyncBaseTransport) -> HttpPeerLink:
        return HttpPeerLink(
            Signer("shanghai", self.b.settings.peer_key_bytes()),
            timeout=5.0,
            mounts={A_URL: a_transport},
        )


class CrossInstitution(Institution):
    """An institution of B whose patients are insured in A."""

    def envelope(
        self, infno: str, payload: dict[str, Any], msgid: str | None = None
    ) -> dict[str, Any]:
        body = super().envelope(infno, payload, msgid)
        body["insuplc_admdvs"] = HOME
        return body


@asynccontextmanager
async def deployments(a_url: str, b_url: str, tmp: Path) -> AsyncIterator[Deployments]:
    from yibao.web.app import create_app

    for url in (a_url, b_url):
        if url.startswith("postgresql"):
            await truncate(url)
    a_key, b_key = secrets.token_bytes(32), secrets.token_bytes(32)
    a_seed, b_seed = base64.b64encode(a_key).decode(), base64.b64encode(b_key).decode()
    a = build_runtime(settings_for(a_url, "shenzhen", a_seed, tmp / "a"))
    b = build_runtime(settings_for(b_url, "shanghai", b_seed, tmp / "b"))
    a_app, b_app = create_app(runtime=a), create_app(runtime=b)
    a.peer_link = HttpPeerLink(
        Signer("shenzhen", a_key), timeout=5.0, mounts={B_URL: httpx.ASGITransport(app=b_app)}
    )
    b.peer_link = HttpPeerLink(
        Signer("shanghai", b_key), timeout=5.0, mounts={A_URL: httpx.ASGITransport(app=a_app)}
    )
    crossregion.forget_directory()
    crossregion.forget_policies()
    directory = directory_json(a_seed, b_seed)
    for runtime in (a, b):
        async with runtime.sessions() as session:
            await world.define_regions(session)
            await crossregion.load_directory(session, runtime, directory)
    id_number = world.new_id_number("440305")
    async with a.sessions() as session:
        person = await world.enrol(a, session, name="张伟", admdvs=HOME, id_number=id_number)
        await world.fund(session, person.person.id, 50000, f"test:{person.person.id}")
    b_http = httpx.AsyncClient(transport=httpx.ASGITransport(app=b_app), base_url="http://b")
    a_http = httpx.AsyncClient(transport=httpx.ASGITransport(app=a_app), base_url="http://a")
    made = []
    async with b.sessions() as session:
        report = await settlement.import_catalogue(
            session,
            [
                (i, settlement.CatalogueRow(code, name, kind, level, share, cap))
                for i, (code, name, kind, level, share, cap) in enumerate(CATALOGUE, start=1)
            ],
        )
        assert not report.errors
        for code, name in (
            ("H31010400012", "上海市徐汇区中心医院"),
            ("P31010400631", "上海徐汇大药房"),
        ):
            credentials = await settlement.add_institution(
                session,
                b.cipher,
                b.clock,
                settlement.NewInstitution(
                    code, name, TREATMENT, level="三级甲等" if code[0] == "H" else None
                ),
            )
            made.append(CrossInstitution(b_http, code, name, credentials.token, TREATMENT))
    try:
        yield Deployments(a, b, a_app, b_app, person, id_number, made[0], made[1], a_http)
    finally:
        await b_http.aclose()
        await a_http.aclose()
        await a.close()
        await b.close()


async def balance(d: Deployments) -> int:
    async with d.a.sessions() as session:
        account = await ledger_repository.account_for_person(session, d.person.person.id)
        assert account is not None
        return account.balance_fen


async def file_filing(d: Deployments) -> None:
    async with d.a.sessions() as session:
        await filings.file(
            session,
            d.a.clock,
            filings.person_actor(d.person.person.id, "张伟"),
            d.person.person.id,
            filings.Application(
                kind=FilingKind.LONG_TERM_RESIDENT,
                treatment_admdvs=TREATMENT,
                treatment_name="上海市",
                begins=china_today(d.a.clock),
                document_kind=DocumentKind.DECLARATION,
                document_note="本人长期居住在上海市徐汇区",
            ),
        )


def drug_sale(d: Deployments, *, lines: int = 1) -> dict[str, Any]:
    detail = [
        {
            "feedetl_sn": f"D{n}",
            "med_list_codg": "XA01ABD075A002010100483",
            "medins_list_codg": "AMX",
            "pric": "12.50",
            "cnt": "2",
            "det_item_fee_sumamt": "25.00",
        }
        for n in range(lines)
    ]
    return {
        "druginfo": {
            "psn_no": d.person.person.psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": d.id_number,
            "med_type": "41",
            "medfee_sumamt": f"{25 * lines:.2f}",
            "insutype": "310",
            "acct_used_flag": "1",
        },
        "drugdetail": detail,
    }


def registration(d: Deployments) -> dict[str, Any]:
    """A 2201 at B's hospital for the person insured at A."""
    return {
        "data": {
            "psn_no": d.person.person.psn_no,
            "insutype": "310",
            "med_type": "11",
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": d.id_number,
        }
    }


def fee_lines(
    d: Deployments, mdtrt_id: str, *batches: tuple[str, str], price: str = "30.00"
) -> dict[str, Any]:
    """A 2204 of one line per (feedetl_sn, chrg_bchno): 诊察费 at `price` (B caps it at 20.00)."""
    return {
        "feedetail": [
            {
                "feedetl_sn": sn,
                "chrg_bchno": batch,
                "mdtrt_id": mdtrt_id,
                "psn_no": d.person.person.psn_no,
                "med_list_codg": "001102000010000",
                "medins_list_codg": "ZC",
                "pric": price,
                "cnt": "1",
                "det_item_fee_sumamt": price,
                "fee_ocur_time": "2026-12-07 10:00:00",
            }
            for sn, batch in batches
        ]
    }


def visit_info(d: Deployments, mdtrt_id: str, *numbers: int) -> dict[str, Any]:
    """A 2203 with one diagnosis per 排序号 in `numbers`."""
    return {
        "mdtrtinfo": {
            "mdtrt_id": mdtrt_id,
            "psn_no": d.person.person.psn_no,
            "med_type": "11",
            "main_cond_dscr": "咳嗽三天",
            "dise_codg": "J06.900",
            "dise_name": "急性上呼吸道感染",
        },
        "diseinfo": [
            {
                "diag_type": "1",
                "diag_srt_no": str(n),
                "diag_code": "J06.900",
                "diag_name": "急性上呼吸道感染",
                "diag_dept": "呼吸内科",
                "dise_dor_no": "D001",
                "dise_dor_name": "王医生",
                "diag_time": "2026-12-07 09:30:00",
                "vali_flag": "1",
            }
            for n in numbers
        ],
    }


def hospital_bill(d: Deployments, mdtrt_id: str, total: str) -> dict[str, Any]:
    """A 2206/2207 of the visit, the account paying first."""
    return {
        "data": {
            "psn_no": d.person.person.psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": d.id_number,
            "med_type": "11",
            "medfee_sumamt": total,
            "mdtrt_id": mdtrt_id,
            "insutype": "310",
            "acct_used_flag": "1",
        }
    }
