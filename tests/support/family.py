"""A family for mutual-aid tests: an employee, relatives, a pharmacy, and helpers to open and pay."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from PIL import Image

from tests.support.world import define_regions, enrol, fund, new_id_number
from yibao.family import service as family
from yibao.runtime import Runtime
from yibao.settlement import service as settlement
from yibao.settlement.domain import Caller, FeeLine
from yibao.settlement.service.institutions import caller_of

if TYPE_CHECKING:
    import httpx

PHARMACY = "P31010400001"
DRUG = "XA01ABD075A002010100483"
REVIEWER = family.Staff(staff_id=901, name="审核员甲")
CLERK = family.Staff(staff_id=902, name="经办员乙")


def photo(colour: str = "red", fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, format=fmt)
    return out.getvalue()


@dataclass
class Member:
    person_id: int
    name: str
    id_number: str
    psn_no: str
    account_id: int | None


async def member(
    runtime: Runtime,
    name: str,
    *,
    insutype: str = "390",
    admdvs: str = "310000",
    birth: date = date(1955, 3, 2),
    district: str = "310104",
    fen: int = 0,
) -> Member:
    id_number = new_id_number(district=district, birth=birth)
    async with runtime.sessions() as s:
        enrolled = await enrol(
            runtime,
            s,
            name=name,
            insutype=insutype,
            psn_type="1101" if insutype == "310" else "1501",
            admdvs=admdvs,
            id_number=id_number,
            birth=birth,
        )
        m = Member(enrolled.person.id, name, id_number, enrolled.person.psn_no, enrolled.account_id)
    if fen:
        async with runtime.sessions() as s:
            await fund(s, m.person_id, fen, f"fund:{m.person_id}")
    return m


async def world(runtime: Runtime) -> None:
    async with runtime.sessions() as s:
        await define_regions(s)


async def employee(
    runtime: Runtime,
    fen: int = 100_000,
    name: str = "王芳",
    admdvs: str = "310000",
    district: str = "310104",
    birth: date = date(1982, 6, 1),
) -> Member:
    return await member(
        runtime, name, insutype="310", admdvs=admdvs, district=district, birth=birth, fen=fen
    )


async def open_aid(
    runtime: Runtime, authoriser: Member, relative: Member, relation: str = "parent"
) -> int:
    """Apply online with documents, submit, approve: returns the active authorisation's id."""
    async with runtime.sessions() as s:
        started = await family.start_application(
            s,
            runtime.cipher,
            runtime.clock,
            authoriser.person_id,
            [family.Relative(relative.name, relative.id_number, relation)],
        )
    authorisation_id = started.authorisations[0].id
    for kind in ("id_photo", "relation_proof"):
        async with runtime.sessions() as s:
            await family.attach_document(
                s,
                runtime.clock,
                family.document_store(runtime.settings.var_dir),
                authorisation_id,
                kind,
                photo(),
                person_id=authoriser.person_id,
            )
    async with runtime.sessions() as s:
        rows = await family.submit_application(
            s, runtime.clock, started.application.id, person_id=authoriser.person_id
        )
    if rows[0].consent_required:
        async with runtime.sessions() as s:
            await family.consent(s, runtime.clock, relative.person_id, authorisation_id, True)
    async with runtime.sessions() as s:
        await family.review(
            s, runtime.cipher, runtime.clock, authorisation_id, REVIEWER, approve=True
        )
    return authorisation_id


async def pharmacy(runtime: Runtime) -> Caller:
    async with runtime.sessions() as s:
        report = await settlement.import_catalogue(
            s,
            [(1, settlement.CatalogueRow(DRUG, "测试自费药", "drug", "03"))],
        )
        assert not report.errors, report.errors
    async with runtime.sessions() as s:
        creds = await settlement.add_institution(
            s,
            runtime.cipher,
            runtime.clock,
            settlement.NewInstitution(PHARMACY, "测试大药房", "310000"),
        )
    return caller_of(creds.institution)


async def buy(
    runtime: Runtime, institution: Caller, patient: Member, fen: int, msgid: str
) -> settlement.Assessment:
    """A pharmacy sale of a fully self-paid drug: the whole amount is the person's share."""
    async with runtime.sessions() as s:
        return await settlement.settle(
            s,
            runtime.cipher,
            runtime.clock,
            institution,
            settlement.BillRequest(
                psn_no=patient.psn_no,
                mdtrt_cert_type="02",
                mdtrt_cert_no=patient.id_number,
                med_type="41",
                medfee_sumamt_fen=fen,
                insutype=None,
                acct_used_flag=True,
                msgid=msgid,
                lines=(FeeLine("1", DRUG, fen, Decimal(1), fen),),
            ),
        )


async def go_online(runtime: Runtime, m: Member) -> str:
    """Open the member's online account at the counter; returns the phone to sign in with."""
    from tests.support.identity import CARD_PASSWORD, PASSWORD
    from tests.support.world import new_phone
    from yibao.identity import service as identity

    phone = new_phone()
    async with runtime.sessions() as s:
        await identity.open_account_at_counter(
            runtime,
            s,
            id_number=m.id_number,
            phone=phone,
            password=PASSWORD,
            card_password=CARD_PASSWORD,
            by="test",
        )
    assert PASSWORD
    return phone


async def bearer(client: httpx.AsyncClient, runtime: Runtime, m: Member) -> dict[str, str]:
    """A stepped-up bearer token for the member (signs them up online first)."""
    from tests.support.identity import stepped_up_bearer

    return await stepped_up_bearer(client, await go_online(runtime, m))


STAFF_PASSWORD = "Staff@2026!x"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


async def staff_member(runtime: Runtime, username: str, roles: list[str], name: str) -> None:
    from yibao.identity import service as identity

    async with runtime.sessions() as s:
        await identity.create_staff(
            runtime,
            s,
            username=username,
            name=name,
            password=STAFF_PASSWORD,
            roles=roles,
            office="测试经办中心",
            totp_secret=TOTP_SECRET,
        )


def csrf_of(client: httpx.AsyncClient) -> str:
    return str(client.cookies.get("yibao_csrf"))


async def page_sign_in(client: httpx.AsyncClient, runtime: Runtime, m: Member) -> None:
    """Sign in on the pages (cookie) and verify with the card password."""
    from tests.support.identity import CARD_PASSWORD, PASSWORD

    phone = await go_online(runtime, m)
    await client.get("/login")
    r = await client.post(
        "/login", data={"identifier": phone, "password": PASSWORD, "csrf_token": csrf_of(client)}
    )
    assert r.status_code == 303, r.text
    r = await client.post(
        "/verify/card-password",
        data={"card_password": CARD_PASSWORD, "next": "/family", "csrf_token": csrf_of(client)},
    )
    assert r.status_code == 303, r.text


async def staff_sign_in(client: httpx.AsyncClient, username: str) -> None:
    import pyotp

    await client.get("/staff/login")
    r = await client.post(
        "/staff/login",
        data={
            "username": username,
            "password": STAFF_PASSWORD,
            "totp": pyotp.TOTP(TOTP_SECRET).now(),
            "csrf_token": csrf_of(client),
        },
    )
    assert r.status_code == 303, r.text
