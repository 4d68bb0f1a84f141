"""13xx downloads and 9101/9102: a version in, the newer records out as a zip fetched by
file_qury_no, readable only by the institution that asked."""

from __future__ import annotations

import base64

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import reference, settlement_world
from tests.support.fsi import Institution
from yibao.reference.domain.kinds import WESTERN_AND_PATENT
from yibao.runtime import Runtime


def _drug(code: str, name: str, spec: str = "0.25g*24粒") -> dict[str, str]:
    return {
        "med_list_codg": code,
        "drug_genname": name,
        "drug_prodname": name,
        "drug_spec": spec,
        "prodentp_name": "华北制药股份有限公司",
        "begndate": "2024-01-01",
    }


@pytest.fixture
async def w(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> settlement_world.World:
    built = await settlement_world.build(runtime, session, client, balance_fen=0)
    await reference.load(
        runtime,
        session,
        "1301",
        [
            _drug("XJ01CA04A001010100001", "阿莫西林胶囊"),
            _drug("XC09AAD012A001010100002", "缬沙坦胶囊", "80mg*7粒"),
        ],
    )
    await session.close()
    return built


def _kiosk(institution: Institution) -> Institution:
    institution.sign_no = ""  # kiosks and HIS clients never call 9001 for downloads
    return institution


async def test_a_download_answers_the_records_newer_than_the_version_sent(
    w: settlement_world.World, runtime: Runtime, session: AsyncSession
) -> None:
    hospital = _kiosk(w.hospital)
    first = await hospital.call("1301", {"data": {"ver": "0"}})
    assert first["infcode"] == 0, first
    assert first["output"]["data_cnt"] == 2
    assert first["output"]["dld_endtime"]
    lines = await reference.fetched_lines(hospital, first["output"])
    columns = WESTERN_AND_PATENT.columns
    assert [len(line) for line in lines] == [len(columns)] * 2
    by_code = {line[0]: dict(zip(columns, line, strict=True)) for line in lines}
    assert by_code["XC09AAD012A001010100002"]["drug_spec"] == "80mg*7粒"
    held = max(int(line[columns.index("ver")]) for line in lines)
    assert all(line[columns.index("vali_flag")] == "1" for line in lines)

    nothing = await hospital.call("1301", {"data": {"ver": str(held)}})
    assert nothing["output"]["data_cnt"] == 0
    assert await reference.fetched_lines(hospital, nothing["output"]) == []

    await reference.load(
        runtime,
        session,
        "1301",
        [
            _drug("XJ01CA04A001010100001", "阿莫西林胶囊"),  # unchanged
            _drug("XC09AAD012A001010100002", "缬沙坦胶囊", "80mg*14粒"),  # changed
            _drug("XR05XAK122A001010100003", "复方甘草口服溶液", "100ml"),  # new
        ],
    )
    await session.close()
    newer = await hospital.call("1301", {"ver": str(held)})  # some SDKs send it unwrapped
    assert newer["infcode"] == 0, newer
    lines = await reference.fetched_lines(hospital, newer["output"])
    assert sorted(line[0] for line in lines) == [
        "XC09AAD012A001010100002",
        "XR05XAK122A001010100003",
    ]
    assert all(int(line[columns.index("ver")]) > held for line in lines)


async def test_a_download_is_readable_only_by_the_institution_that_asked(
    w: settlement_world.World,
) -> None:
    made = await _kiosk(w.hospital).call("1301", {"data": {"ver": "0"}})
    other = await _kiosk(w.pharmacy).call(
        "9102", {"fsDownloadIn": {"file_qury_no": made["output"]["file_qury_no"]}}
    )
    assert other["infcode"] == -1
    assert "没有这个文件查询号" in other["err_msg"]
    assert "file" not in other["output"]


async def test_the_same_question_while_nothing_changed_gets_the_same_file(
    w: settlement_world.World, runtime: Runtime, session: AsyncSession
) -> None:
    hospital, pharmacy = _kiosk(w.hospital), _kiosk(w.pharmacy)
    first = await hospital.call("1301", {"data": {"ver": "0"}})
    again = await hospital.call("1301", {"data": {"ver": "0"}})  # a new msgid, a kiosk's poll
    assert again["output"]["file_qury_no"] == first["output"]["file_qury_no"]
    theirs = await pharmacy.call("1301", {"data": {"ver": "0"}})
    assert theirs["output"]["file_qury_no"] != first["output"]["file_qury_no"]
    await reference.load(runtime, session, "1301", [_drug("XJ01CA04A001010100009", "新药片")])
    await session.close()
    after = await hospital.call("1301", {"data": {"ver": "0"}})
    assert after["output"]["file_qury_no"] != first["output"]["file_qury_no"]
    assert after["output"]["data_cnt"] == 3
    assert len(await reference.fetched_lines(hospital, after["output"])) == 3


async def test_a_retried_download_answers_the_same_file(w: settlement_world.World) -> None:
    hospital = _kiosk(w.hospital)
    msgid = hospital.new_msgid()
    first = await hospital.call("1301", {"data": {"ver": "0"}}, msgid=msgid)
    again = await hospital.call("1301", {"data": {"ver": "0"}}, msgid=msgid)
    assert again["output"] == first["output"]


@pytest.mark.parametrize(
    ("infno", "payload", "named"),
    [
        ("1301", {"data": {"ver": "abc"}}, "input.data.ver"),
        ("9102", {"fsDownloadIn": {"file_qury_no": ""}}, "input.fsDownloadIn.file_qury_no"),
        ("9101", {"fsUploadIn": {"filename": "a.txt", "in": "不是base64"}}, "input.fsUploadIn.in"),
        ("9101", {"fsUploadIn": {"filename": "../a.txt", "in": "YQ=="}}, "fsUploadIn.filename"),
        ("9101", {"fsUploadIn": {"filename": "a.txt", "in": [1, 300]}}, "input.fsUploadIn.in"),
    ],
)
async def test_bad_input_is_refused_naming_the_field(
    w: settlement_world.World, infno: str, payload: dict[str, object], named: str
) -> None:
    answer = await _kiosk(w.pharmacy).call(infno, payload)
    assert answer["infcode"] == -1, answer
    assert named in answer["err_msg"]


async def test_an_upload_comes_back_to_its_owner_only_with_its_checksum(
    w: settlement_world.World, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    pharmacy = _kiosk(w.pharmacy)
    text = "结算号\t医疗费总额\nS1\t30.00\n".encode()
    as_base64 = await pharmacy.call(
        "9101",
        {
            "fsUploadIn": {
                "filename": "3202明细.txt",
                "fixmedins_code": pharmacy.code,
                "in": base64.b64encode(text).decode(),
            }
        },
    )
    assert as_base64["infcode"] == 0, as_base64
    assert as_base64["output"]["file_size"] == len(text)
    as_bytes = await pharmacy.call(
        "9101",
        {"fsUploadIn": {"filename": "b.txt", "in": [b - 256 if b > 127 else b for b in text]}},
    )
    assert as_bytes["output"]["sha256"] == as_base64["output"]["sha256"]
    back = await pharmacy.call(
        "9102", {"fsDownloadIn": {"file_qury_no": as_bytes["output"]["file_qury_no"]}}
    )
    assert back["infcode"] == 0, back
    assert base64.b64decode(back["output"]["file"]) == text
    assert back["output"]["filename"] == "b.txt"
    stranger = await _kiosk(w.hospital).call(
        "9102", {"fsDownloadIn": {"file_qury_no": as_bytes["output"]["file_qury_no"]}}
    )
    assert stranger["infcode"] == -1

    monkeypatch.setattr(runtime.settings, "fsi_file_max_bytes", 1024)
    too_big = await pharmacy.call(
        "9101",
        {"fsUploadIn": {"filename": "big.bin", "in": base64.b64encode(b"x" * 1025).decode()}},
    )
    assert too_big["infcode"] == -1
    assert "超过文件大小上限 1024 字节" in too_big["err_msg"]


async def test_codes_that_are_not_four_digits_are_answered_on_both_endpoints(
    w: settlement_world.World,
) -> None:
    hospital = _kiosk(w.hospital)
    for infno, payload in (("1306A", {"data": {"ver": "0"}}), ("100001", {"data": {}})):
        for path in (None, f"/fsi/api/{infno}"):
            answer = await hospital.call(infno, payload, path=path)
            assert answer["infcode"] == 0, answer


async def test_2601_of_a_download_or_an_upload_has_nothing_to_undo(
    w: settlement_world.World,
) -> None:
    pharmacy = w.pharmacy
    await pharmacy.sign_in()
    msgid = pharmacy.new_msgid()
    made = await pharmacy.call("1306", {"data": {"ver": "0"}}, msgid=msgid)
    assert made["infcode"] == 0, made
    undone = await pharmacy.call(
        "2601", {"data": {"oinfno": "1306", "omsgid": msgid, "psn_no": w.person.person.psn_no}}
    )
    assert undone["infcode"] == 0, undone
    assert undone["output"]["data"]["rever_result"] == "nothing"
    still = await reference.fetched_lines(pharmacy, made["output"])
    assert still == []
