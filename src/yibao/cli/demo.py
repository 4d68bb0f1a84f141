"""yibao demo: a believable world to try the product in (regions, employers, persons, history)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time

import typer
from faker import Faker
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.cli.context import console, fail, print_json, run_in_session
from yibao.cli.demo_auditrules import load_demo_rules
from yibao.cli.demo_reference import load_reference
from yibao.cli.demo_settlement import add_institutions, settle_one, settlement_moments
from yibao.contributions import service as contributions
from yibao.contributions.domain import month_index, month_of_index
from yibao.enrolment import service as enrolment
from yibao.enrolment.tables import Region
from yibao.identity import service as identity
from yibao.kernel.clock import CHINA_TZ, FixedClock, china_today
from yibao.kernel.idnumber import check_character
from yibao.runtime import Runtime

# The documented demo person (README, docs/demo.md): sign in with these.
DEMO_NAME = "李明"
DEMO_ID_FIRST17 = "31010419850315001"
DEMO_ID_NUMBER = DEMO_ID_FIRST17 + check_character(DEMO_ID_FIRST17)
DEMO_PHONE = "13800138000"
DEMO_CARD_NO = "A31000001"
DEMO_EMPLOYER = "上海市示范科技有限公司"
# 李明's family, documented so a new user can try 家庭共济 with them (docs/demo.md).
DEMO_RELATIVES = [
    # name, first 17 digits, phone, relation to 李明
    ("周秀英", "31010419600903002", "13800138001", "parent"),
    ("李小雨", "31010420150420004", None, "child"),
]
DEMO_PASSWORD = "Yibao@2026"  # noqa: S105 - the documented demo password (docs/demo.md)
DEMO_CARD_PASSWORD = "123456"  # noqa: S105 - documented demo card query password
DEMO_STAFF_PASSWORD = "Staff@2026"  # noqa: S105 - documented demo staff password
DEMO_OFFICE = "上海市徐汇区医保中心"
# Fixed TOTP secrets so a new user can sign in to the staff portal at once (docs/demo.md); 160
# bits each, as RFC 4226 asks and pyotp requires.
DEMO_STAFF = [
    ("clerk", "王晓红", "clerk", "YIBAOCLERKDEMOTOTPSECRETONLY2TRY"),
    ("reviewer", "陈志强", "reviewer", "YIBAOREVIEWERDEMOTOTPSECRET2TRYX"),
    ("admin", "刘建国", "admin", "YIBAOADMINDEMOTOTPSECRETONLY2TRY"),
]

REGIONS = [
    Region(
        admdvs="310000",
        name="上海市",
        account_credit_rate_bp=200,
        retiree_monthly_credit_fen=16300,
        deductible_fen=150000,
        fund_ratio_bp=7500,
        retiree_fund_ratio_bp=8500,
        yearly_cap_fen=60000000,
        class_b_selfpay_bp=1000,
        near_relatives_allowed=True,
        mutual_aid_scope="region",
        resident_contribution_fen=38000,
    ),
    Region(
        admdvs="440300",
        name="深圳市",
        account_credit_rate_bp=200,
        retiree_monthly_credit_fen=12500,
        deductible_fen=0,
        fund_ratio_bp=9000,
        retiree_fund_ratio_bp=9500,
        yearly_cap_fen=50000000,
        class_b_selfpay_bp=500,
        near_relatives_allowed=True,
        mutual_aid_scope="province",
        resident_contribution_fen=40000,
    ),
    Region(
        admdvs="110000",
        name="北京市",
        account_credit_rate_bp=200,
        retiree_monthly_credit_fen=11000,
        deductible_fen=180000,
        fund_ratio_bp=7000,
        retiree_fund_ratio_bp=8500,
        yearly_cap_fen=50000000,
        class_b_selfpay_bp=1500,
        near_relatives_allowed=False,
        mutual_aid_scope="region",
        resident_contribution_fen=39000,
    ),
]

DISTRICTS = {
    "310000": ["310101", "310104", "310105", "310115"],
    "440300": ["440303", "440304", "440305", "440306"],
    "110000": ["110101", "110105", "110108"],
}
EMPLOYERS = {
    "310000": [
        DEMO_EMPLOYER,
        "上海浦江物流有限公司",
        "上海申城百货有限公司",
        "上海东方软件股份有限公司",
    ],
    "440300": ["深圳南山电子有限公司", "深圳前海金融服务有限公司", "深圳福田建设集团有限公司"],
    "110000": [
        "北京朝阳文化传媒有限公司",
        "北京中关村信息技术有限公司",
        "北京首都餐饮管理有限公司",
    ],
}


def make_id_number(rng: random.Random, district: str, birth: date, male: bool) -> str:
    sequence = rng.randrange(0, 500) * 2 + (1 if male else 0)
    first17 = f"{district}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def _world(rng: random.Random, fake: Faker, count: int, today: date) -> list[enrolment.NewPerson]:
    people = [
        enrolment.NewPerson(
            name=DEMO_NAME,
            id_number=DEMO_ID_NUMBER,
            phone=DEMO_PHONE,
            admdvs="310000",
            insutype="310",
            psn_type="1101",
            employer=DEMO_EMPLOYER,
            card_no=DEMO_CARD_NO,
            begin_date=date(today.year - 3, 1, 1),
        )
    ]
    seen = {DEMO_ID_NUMBER}
    phones = {DEMO_PHONE}
    for name, first17, phone, _relation in DEMO_RELATIVES[: max(count - 1, 0)]:
        id_number = first17 + check_character(first17)
        people.append(
            enrolment.NewPerson(
                name=name,
                id_number=id_number,
                phone=phone,
                admdvs="310000",
                insutype="390",
                psn_type="1501",
                begin_date=date(today.year - 3, 1, 1),
            )
        )
        seen.add(id_number)
        if phone:
            phones.add(phone)
    while len(people) < count:
        region = rng.choice(REGIONS)
        male = rng.random() < 0.5
        roll = rng.random()
        if roll < 0.65:
            insutype, psn_type, age = "310", "1101", rng.randint(22, 59)
        elif roll < 0.8:
            insutype, psn_type, age = "310", "1201", rng.randint(60, 85)
        else:
            insutype, psn_type, age = "390", "1501", rng.randint(1, 80)
        birth = date(today.year - age, rng.randint(1, 12), rng.randint(1, 28))
        id_number = make_id_number(rng, rng.choice(DISTRICTS[region.admdvs]), birth, male)
        phone = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
        if id_number in seen or phone in phones:
            continue
        seen.add(id_number)
        phones.add(phone)
        people.append(
            enrolment.NewPerson(
                name=fake.name_male() if male else fake.name_female(),
                id_number=id_number,
                phone=phone,
                admdvs=region.admdvs,
                insutype=insutype,
                psn_type=psn_type,
                employer=rng.choice(EMPLOYERS[region.admdvs]) if psn_type == "1101" else None,
                card_no=f"{region.admdvs[:1].upper()}{len(people):08d}",
                begin_date=date(today.year - 3, 1, 1),
            )
        )
    return people


def _contribution_rows(
    rng: random.Random, people: list[enrolment.NewPerson], today: date, months: int
) -> list[tuple[int, contributions.ContributionRow]]:
    rows: list[tuple[int, contributions.ContributionRow]] = []
    last = month_index(f"{today:%Y-%m}") - 1
    for person in people:
        if person.insutype != "310":
            continue
        base_fen = rng.randrange(60, 300) * 10000 if person.psn_type == "1101" else 0
        skip = rng.randrange(last - months + 1, last) if rng.random() < 0.05 else None
        late = rng.randrange(last - months + 1, last) if rng.random() < 0.08 else None
        for index in range(last - months + 1, last + 1):
            if index == skip and person.id_number != DEMO_ID_NUMBER:
                continue
            month = month_of_index(index)
            arrival_index = index + (4 if index == late else 0)
            arrived = date(arrival_index // 12, arrival_index % 12 + 1, 15)
            if arrived > today:
                arrived = today
            employer = base_fen * 9 // 100 if base_fen else 0
            personal = base_fen * 2 // 100 if base_fen else 0
            rows.append(
                (
                    len(rows) + 1,
                    contributions.ContributionRow(
                        id_number=person.id_number,
                        month=month,
                        base=f"{base_fen // 100}.{base_fen % 100:02d}",
                        employer_amount=f"{employer // 100}.{employer % 100:02d}",
                        personal_amount=f"{personal // 100}.{personal % 100:02d}",
                        arrived_on=arrived,
                    ),
                )
            )
    return rows


def demo(
    persons: int = typer.Option(300, help="How many insured persons"),
    months: int = typer.Option(24, help="Months of contribution history"),
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing when persons exist"),
    seed: int = typer.Option(20261125, help="Random seed, for a repeatable world"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create the demo world and print the demo person's credentials."""
    if persons < 1:
        fail("--persons 至少为 1")

    async def _work(runtime: Runtime, session: AsyncSession) -> dict[str, object] | None:
        if await enrolment.has_persons(session):
            if if_empty:
                return None
            fail("数据库里已有参保人；演示数据只能装入空数据库（或加 --if-empty 跳过）")
        for region in REGIONS:
            await enrolment.define_region(session, region)
        rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
        fake = Faker("zh_CN")
        fake.seed_instance(seed)
        today = china_today(runtime.clock)
        people = _world(rng, fake, persons, today)
        done, errors = await enrolment.enrol_many(
            session, runtime.cipher, runtime.clock, list(enumerate(people, start=1))
        )
        if errors:
            fail(f"演示参保人生成失败: {errors[:3]}")
        world = await add_institutions(runtime, session)
        reference_records = await load_reference(runtime, session)
        # The history happens in time order, so every entry's balance_after follows its date:
        # each batch of contributions on the day it arrived, each purchase at its moment.
        events: list[tuple[datetime, int, object]] = []
        by_arrival: dict[date, list[tuple[int, contributions.ContributionRow]]] = {}
        for line, row in _contribution_rows(rng, people, today, months):
            assert row.arrived_on is not None
            by_arrival.setdefault(row.arrived_on, []).append((line, row))
        for arrived, batch in by_arrival.items():
            at = datetime.combine(arrived, time(9, 0), CHINA_TZ).astimezone(UTC)
            events.append((at, 0, batch))
        for moment, index in settlement_moments(rng, len(people), today, months):
            events.append((moment, 1, index))
        events.sort(key=lambda event: (event[0], event[1]))
        loaded = settled = 0
        for at, kind, payload in events:
            if kind == 0:
                assert isinstance(payload, list)
                report = await contributions.import_contributions(
                    session, runtime.cipher, FixedClock(at), payload
                )
                if report.errors:
                    fail(f"演示缴费生成失败: {report.errors[:3]}")
                loaded += report.loaded
            else:
                assert isinstance(payload, int)
                await settle_one(
                    runtime,
                    session,
                    rng,
                    people[payload],
                    done[payload],
                    world.callers,
                    world.catalogue,
                    at,
                )
                settled += 1
        audit_rules = await load_demo_rules(runtime, session)
        await identity.open_account_at_counter(
            runtime,
            session,
            id_number=DEMO_ID_NUMBER,
            phone=DEMO_PHONE,
            password=DEMO_PASSWORD,
            card_password=DEMO_CARD_PASSWORD,
            by="demo",
        )
        for username, staff_name, role, secret in DEMO_STAFF:
            await identity.create_staff(
                runtime,
                session,
                username=username,
                name=staff_name,
                password=DEMO_STAFF_PASSWORD,
                roles=[role],
                office=DEMO_OFFICE,
                totp_secret=secret,
            )
        return {
            "persons": len(done),
            "contributions": loaded,
            "catalogue_items": world.catalogue_items,
            "reference_records": reference_records,
            "audit_rules": audit_rules,
            "institutions": sum(len(c) for c in world.callers.values()),
            "settlements": settled,
            "demo_institution": world.demo_institution,
            "demo_person": {
                "name": DEMO_NAME,
                "id_number": DEMO_ID_NUMBER,
                "phone": DEMO_PHONE,
                "card_no": DEMO_CARD_NO,
                "psn_no": done[0].person.psn_no,
                "password": DEMO_PASSWORD,
                "card_password": DEMO_CARD_PASSWORD,
            },
            "demo_relatives": [
                {"name": n, "id_number": f + check_character(f), "relation": r}
                for n, f, _p, r in DEMO_RELATIVES
            ],
            "staff": [
                {
                    "username": u,
                    "name": n,
                    "role": r,
                    "password": DEMO_STAFF_PASSWORD,
                    "totp_secret": t,
                }
                for u, n, r, t in DEMO_STAFF
            ],
        }

    result = run_in_session(_work)
    if result is None:
        console.print("演示数据已存在，跳过")
        return
    if as_json:
        print_json(result)
        return
    person = result["demo_person"]
    assert isinstance(person, dict)
    console.print(
        f"演示数据已生成: {result['persons']} 名参保人, {result['contributions']} 条缴费记录,"
        f" {result['reference_records']} 条基础信息（目录、字典、医执人员）"
    )
    console.print(
        f"演示参保人: {person['name']}  身份证 {person['id_number']}  手机 {person['phone']}"
        f"  社保卡 {person['card_no']}  psn_no {person['psn_no']}"
    )
    relatives = "，".join(
        f"{n} {f + check_character(f)}（{'母亲' if r == 'parent' else '女儿'}）"
        for n, f, _p, r in DEMO_RELATIVES
    )
    console.print(f"家庭共济可试用的亲属: {relatives}")
    console.print(f"网上账户: 登录密码 {DEMO_PASSWORD}  医保卡密码 {DEMO_CARD_PASSWORD}  (/login)")
    console.print(
        f"经办人员 (/staff/login, 密码 {DEMO_STAFF_PASSWORD}, 动态口令密钥导入身份验证器):"
    )
    for username, staff_name, role, secret in DEMO_STAFF:
        console.print(
            f"  {username:<9} {staff_name}  岗位 {role:<8}  TOTP 密钥 {secret}", highlight=False
        )
    institution = result["demo_institution"]
    assert isinstance(institution, dict)
    console.print(
        f"演示定点医院: {institution['fixmedins_code']} {institution['name']}"
        f"  paasid {institution['paasid']}  token {institution['token']}"
    )
