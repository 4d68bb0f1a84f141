"""The bench world's reference data, made through the features' own use cases: regions, a
catalogue, hospitals and pharmacies (their paasTokens follow from the seed, so the run can sign
requests), and employers."""

from __future__ import annotations

import hashlib

import asyncpg  # type: ignore[import-untyped]

from yibao.cli.demo import DISTRICTS, REGIONS
from yibao.enrolment import service as enrolment
from yibao.enrolment.tables import Region
from yibao.runtime import build_runtime
from yibao.settlement import service as settlement
from yibao_bench.target import Target, bench_settings

EMPLOYERS_PER_REGION = 200
HOSPITALS_PER_REGION = 12
PHARMACIES_PER_REGION = 24
INSTITUTION_WORDS = {
    "310000": ("上海市", ["第一人民医院", "第六人民医院", "瑞金医院", "华山医院", "中山医院"]),
    "440300": ("深圳市", ["人民医院", "第二人民医院", "南山医院", "福田医院", "宝安中医院"]),
    "110000": ("北京市", ["协和医院", "朝阳医院", "友谊医院", "积水潭医院", "宣武医院"]),
}
PHARMACY_BRANDS = ["益丰大药房", "老百姓大药房", "国大药房", "海王星辰", "同仁堂药店", "一心堂"]
CATALOGUE = [
    # code, name, class, price in fen, 乙类 self-pay share in bp (None: the region's)
    ("XA02BCA001A001010100001", "奥美拉唑肠溶胶囊", "01", 1850, None),
    ("XA10BAA001A001010100002", "二甲双胍片", "01", 1260, None),
    ("XC08CAA001A001010100003", "硝苯地平控释片", "01", 3320, None),
    ("XC09CAL001A001010100004", "氯沙坦钾片", "01", 2980, None),
    ("XJ01CAA001A001010100005", "阿莫西林胶囊", "01", 890, None),
    ("XN02BEA001A001010100006", "对乙酰氨基酚片", "01", 560, None),
    ("XR05CBA001A001010100007", "氨溴索口服溶液", "01", 1540, None),
    ("XC10AAA001A001010100008", "阿托伐他汀钙片", "01", 4210, None),
    ("XB01ACA001A001010100009", "阿司匹林肠溶片", "01", 1380, None),
    ("001102000010000000000010", "普通门诊诊查费", "01", 1000, None),
    ("XJ01DCA001A001010100011", "头孢呋辛酯片", "02", 3560, 1000),
    ("XL04AAA001A001010100012", "来氟米特片", "02", 6820, 1500),
    ("XA10BXA001A001010100013", "西格列汀片", "02", 8860, None),
    ("XN05CFA001A001010100014", "佐匹克隆片", "02", 2470, None),
    ("XR03BAA001A001010100015", "布地奈德吸入剂", "02", 9850, 2000),
    ("XM01AEA001A001010100016", "布洛芬缓释胶囊", "02", 1690, None),
    ("XC01DAA001A001010100017", "单硝酸异山梨酯片", "02", 2240, None),
    ("250305000010000000000018", "血常规检查", "02", 2500, None),
    ("ZA09AAA001A001010100019", "六味地黄丸", "03", 2800, None),
    ("ZA04CAA001A001010100020", "复方丹参滴丸", "03", 4650, None),
    ("HA99000001000000000000021", "医用外科口罩", "03", 1200, None),
    ("HA99000002000000000000022", "电子体温计", "03", 3900, None),
    ("ZA06BAA001A001010100023", "板蓝根颗粒", "03", 1580, None),
    ("XD06BBA001A001010100024", "阿昔洛韦乳膏", "03", 990, None),
]


def _token(seed: int, code: str) -> str:
    return hashlib.sha256(f"yibao-bench:{seed}:{code}".encode()).hexdigest()[:32]


def institution_codes(seed: int) -> list[tuple[str, str, str, str]]:
    """(code, name, admdvs, token) of every bench institution; tokens follow from the seed."""
    found = []
    for region in REGIONS:
        city, hospitals = INSTITUTION_WORDS[region.admdvs]
        districts = DISTRICTS[region.admdvs]
        for n in range(HOSPITALS_PER_REGION):
            code = f"H{districts[n % len(districts)]}{n + 1:05d}"
            name = f"{city}{hospitals[n % len(hospitals)]}{'' if n < 5 else f'第{n // 5 + 1}分院'}"
            found.append((code, name, region.admdvs, _token(seed, code)))
        for n in range(PHARMACIES_PER_REGION):
            code = f"P{districts[n % len(districts)]}{n + 1:05d}"
            brand = PHARMACY_BRANDS[n % len(PHARMACY_BRANDS)]
            found.append((code, f"{brand}{city[:2]}第{n + 1}店", region.admdvs, _token(seed, code)))
    return found


async def make_reference_data(target: Target, seed: int) -> None:
    runtime = build_runtime(bench_settings(target))
    try:
        async with runtime.sessions() as session:
            for region in REGIONS:
                await enrolment.define_region(
                    session,
                    Region(**{c.name: getattr(region, c.name) for c in Region.__table__.columns}),
                )
        async with runtime.sessions() as session:
            rows = [
                (
                    n,
                    settlement.CatalogueRow(
                        med_list_codg=code,
                        name=name,
                        list_type="service" if code[0].isdigit() else "drug",
                        chrgitm_lv=level,
                        selfpay_share="" if bp is None else str(bp // 100),
                        begin_date="2020-01-01",
                    ),
                )
                for n, (code, name, level, _, bp) in enumerate(CATALOGUE, start=1)
            ]
            report = await settlement.import_catalogue(session, rows)
            if report.errors:
                raise RuntimeError(f"bench catalogue refused: {report.errors[:3]}")
        for code, name, admdvs, token in institution_codes(seed):
            async with runtime.sessions() as session:
                await settlement.add_institution(
                    session,
                    runtime.cipher,
                    runtime.clock,
                    settlement.NewInstitution(code, name, admdvs, token=token),
                )
    finally:
        await runtime.close()
    conn = await asyncpg.connect(target.dsn)
    try:
        async with conn.transaction():
            await conn.executemany(
                "INSERT INTO employers (name, admdvs) VALUES ($1, $2)",
                [
                    (f"{INSTITUTION_WORDS[r.admdvs][0]}示范企业{n + 1:03d}号有限公司", r.admdvs)
                    for r in REGIONS
                    for n in range(EMPLOYERS_PER_REGION)
                ],
            )
    finally:
        await conn.close()
