"""The settlement part of `yibao demo`: institutions in every region, the demo catalogue, and a
year of past settlements for the demo persons, made through the real settle use case."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.cli.settlement import read_catalogue
from yibao.enrolment import service as enrolment
from yibao.kernel.clock import CHINA_TZ, FixedClock
from yibao.ledger import repository as ledger_repository
from yibao.runtime import Runtime
from yibao.settlement import service
from yibao.settlement.domain import Caller, FeeLine, times_count

CATALOGUE_CSV = Path(__file__).parents[1] / "settlement" / "demo_catalogue.csv"

# The documented demo institution (docs/demo.md): its paasid and token are the same in every demo.
DEMO_INSTITUTION = "H31010400012"

INSTITUTIONS = {
    "310000": [
        ("H31010400012", "上海市徐汇区中心医院", "三级乙等"),
        ("H31010100003", "上海市黄浦区人民医院", "二级甲等"),
        ("H31011500027", "上海市浦东新区公利医院", "三级甲等"),
        ("P31010400101", "上海雷允上徐汇药房", None),
        ("P31010500215", "上海华氏大药房长宁店", None),
        ("P31011500388", "上海第一医药浦东店", None),
    ],
    "440300": [
        ("H44030500012", "深圳市南山区人民医院", "三级甲等"),
        ("H44030300021", "深圳市罗湖区人民医院", "三级甲等"),
        ("H44030400035", "深圳市福田区妇幼保健院", "二级甲等"),
        ("P44030500631", "深圳南山海王星辰药房", None),
        ("P44030300112", "深圳罗湖中联大药房", None),
        ("P44030600245", "深圳宝安一致药店", None),
    ],
    "110000": [
        ("H11010500007", "北京市朝阳区第二医院", "二级甲等"),
        ("H11010800019", "北京市海淀医院", "三级乙等"),
        ("H11010100004", "北京市东城区第一人民医院", "二级甲等"),
        ("P11010500126", "北京金象大药房朝阳店", None),
        ("P11010800233", "北京同仁堂海淀药店", None),
        ("P11010100341", "北京医保全新大药房", None),
    ],
}


def demo_token(code: str) -> str:
    return hashlib.sha256(f"yibao-demo-token:{code}".encode()).hexdigest()[:32]


@dataclass
class SettlementWorld:
    callers: dict[str, list[Caller]]
    catalogue: list[service.CatalogueRow]
    catalogue_items: int
    demo_institution: dict[str, str]


async def add_institutions(runtime: Runtime, session: AsyncSession) -> SettlementWorld:
    """The demo catalogue and the institutions of every region."""
    report = await service.import_catalogue(session, read_catalogue(CATALOGUE_CSV))
    callers: dict[str, list[Caller]] = {}
    shown: dict[str, str] = {}
    for admdvs, rows in INSTITUTIONS.items():
        for code, name, level in rows:
            made = await service.add_institution(
                session,
                runtime.cipher,
                runtime.clock,
                service.NewInstitution(code, name, admdvs, level=level, token=demo_token(code)),
            )
            callers.setdefault(admdvs, []).append(service.caller_of(made.institution))
            if code == DEMO_INSTITUTION:
                shown = {
                    "fixmedins_code": code,
                    "name": name,
                    "paasid": made.institution.paasid,
                    "token": made.token,
                }
    catalogue = [row for _, row in read_catalogue(CATALOGUE_CSV)]
    return SettlementWorld(callers, catalogue, report.loaded, shown)


def settlement_moments(
    rng: random.Random, count: int, today: date, months: int
) -> list[tuple[datetime, int]]:
    """When each person visited: (moment, index of the person), the demo person 12 times."""
    moments: list[tuple[datetime, int]] = []
    for index in range(count):
        for _ in range(12 if index == 0 else rng.randint(0, 5)):
            day = today - timedelta(days=rng.randint(1, max(1, min(364, months * 30))))
            moment = datetime.combine(day, time(rng.randint(8, 19), rng.randint(0, 59)), CHINA_TZ)
            moments.append((moment.astimezone(UTC), index))
    return moments


async def settle_one(
    runtime: Runtime,
    session: AsyncSession,
    rng: random.Random,
    new: enrolment.NewPerson,
    enrolled: enrolment.EnrolledPerson,
    callers: dict[str, list[Caller]],
    catalogue: list[service.CatalogueRow],
    moment: datetime,
) -> None:
    caller = rng.choice(callers[new.admdvs])
    lines = []
    wanted = [r for r in catalogue if (r.list_type == "drug") == (caller.kind == "P")]
    for n, row in enumerate(rng.sample(wanted, rng.randint(1, 4)), start=1):
        price = int(
            Decimal(row.price_cap or rng.choice(["12.50", "26.80", "38.00", "65.00"])) * 100
        )
        count = Decimal(rng.randint(1, 3))
        lines.append(FeeLine(str(n), row.med_list_codg, price, count, times_count(price, count)))
    total = sum(line.det_item_fee_sumamt_fen for line in lines)
    account = await ledger_repository.account_for_person(session, enrolled.person.id)
    # Like a careful patient, the demo keeps some money on the account: it pays from it only
    # while the balance is well above the bill.
    use_account = account is not None and account.balance_fen > 3 * total
    await service.settle(
        session,
        runtime.cipher,
        FixedClock(moment),
        caller,
        service.BillRequest(
            psn_no=enrolled.person.psn_no,
            mdtrt_cert_type="02",
            mdtrt_cert_no=new.id_number,
            med_type="41" if caller.kind == "P" else rng.choice(["11", "11", "11", "13"]),
            medfee_sumamt_fen=total,
            insutype=new.insutype,
            acct_used_flag=use_account,
            msgid=f"{caller.fixmedins_code}{moment.astimezone(CHINA_TZ):%Y%m%d%H%M%S}{rng.randrange(10000):04d}",
            lines=tuple(lines),
        ),
    )
