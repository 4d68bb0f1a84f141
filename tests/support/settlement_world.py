"""A settlement world: regions, a catalogue, institutions, insured persons with money."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import world
from tests.support.fsi import Institution
from yibao.enrolment.service import EnrolledPerson
from yibao.runtime import Runtime
from yibao.settlement import service

CATALOGUE = [
    # code, name, type, class, 乙类 share %, price cap yuan
    ("XA01ABD075A002010100483", "阿莫西林胶囊", "drug", "01", "", ""),
    ("XC09AAD012A001010104291", "缬沙坦胶囊", "drug", "02", "", ""),
    ("XN06AXA063A001010101005", "保健滋补口服液", "drug", "03", "", ""),
    ("001102000010000", "普通门诊诊查费", "service", "01", "", "20.00"),
    ("XR05XAK122A001010101235", "复方甘草口服溶液", "drug", "02", "20", ""),
]


@dataclass
class World:
    person: EnrolledPerson
    resident: EnrolledPerson
    hospital: Institution
    pharmacy: Institution


async def build(
    runtime: Runtime, session: AsyncSession, http: httpx.AsyncClient, *, balance_fen: int = 50000
) -> World:
    await world.define_regions(session)
    report = await service.import_catalogue(
        session,
        [
            (i, service.CatalogueRow(code, name, kind, level, share, cap))
            for i, (code, name, kind, level, share, cap) in enumerate(CATALOGUE, start=1)
        ],
    )
    assert not report.errors, report.errors
    person = await world.enrol(
        runtime, session, name="张伟", admdvs="440300", id_number=world.new_id_number("440305")
    )
    resident = await world.enrol(
        runtime,
        session,
        name="刘洋",
        admdvs="440300",
        insutype="390",
        psn_type="1501",
        id_number=world.new_id_number("440305"),
    )
    if balance_fen:
        await world.fund(session, person.person.id, balance_fen, f"test:{person.person.id}")
    made = []
    for code, name in (
        ("H44030500012", "深圳市南山区人民医院"),
        ("P44030500631", "深圳南山大药房"),
    ):
        credentials = await service.add_institution(
            session,
            runtime.cipher,
            runtime.clock,
            service.NewInstitution(
                code, name, "440300", level="三级甲等" if code[0] == "H" else None
            ),
        )
        made.append(Institution(http, code, name, credentials.token, "440300"))
    return World(person, resident, made[0], made[1])
