"""yibao fsi — a reference client of the institution interface, for a hospital's developer.

It talks HTTP to a running yibao like a hospital (HIS) or pharmacy (POS) system would, using only
the standard library, so it reads as a recipe:

1. sign every request with the gateway headers: x-tif-paasid, x-tif-timestamp (Unix seconds),
   x-tif-nonce (random, never reused), x-tif-signature = hex SHA-256 of
   timestamp + paasToken + nonce + timestamp;
2. sign in with 9001 and put the day's sign_no in every other message;
3. number messages: msgid = institution code (12) + yyyyMMddHHmmss (14) + 4-digit sequence;
   resend the same msgid when an answer is lost: the first answer comes back, nothing twice;
4. send amounts as yuan strings with two decimals;
5. 9102 文件下载 answers the file's bytes (application/octet-stream) when it succeeds, and the
   usual JSON (infcode -1, err_msg) when it fails: look at the Content-Type.

Configure with --url/--code/--token or YIBAO_FSI_URL, YIBAO_FSI_CODE, YIBAO_FSI_TOKEN.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import typer

from yibao.cli.context import console, fail, print_json
from yibao.reference.domain import KINDS

BEIJING = timezone(timedelta(hours=8))

fsi_app = typer.Typer(
    help="定点医药机构接口的参考客户端: sign-in, person, bill, cancel, download",
    no_args_is_help=True,
)


def succeeded(answer: dict[str, Any]) -> bool:
    """infcode 0: yibao answers the number, some platforms the text "0"; read either."""
    return str(answer.get("infcode")) == "0"


class Unreachable(Exception):
    """No answer: the server is down, the URL wrong, or the answer not JSON."""


@dataclass
class FsiClient:
    url: str
    code: str
    token: str
    name: str = ""
    region: str = ""
    # 异地就医: the patient's insured region when it is not the institution's (docs/cross-region.md)
    insured_region: str = ""
    sign_no: str | None = None
    last_msgid: str = ""
    _sequence: int = field(default_factory=lambda: secrets.randbelow(9000))

    def msgid(self) -> str:
        self._sequence = (self._sequence + 1) % 10000
        return f"{self.code}{datetime.now(BEIJING):%Y%m%d%H%M%S}{self._sequence:04d}"

    def headers(self) -> dict[str, str]:
        timestamp = str(int(time.time()))
        nonce = secrets.token_hex(16)
        digest = hashlib.sha256(f"{timestamp}{self.token}{nonce}{timestamp}".encode()).hexdigest()
        return {
            "content-type": "application/json",
            "x-tif-paasid": self.code.lower(),
            "x-tif-timestamp": timestamp,
            "x-tif-nonce": nonce,
            "x-tif-signature": digest,
        }

    def send(self, infno: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One signed message; the answer whatever its infcode. `Unreachable` when no answer.
        `last_msgid` is its msgid (2601 names the message it reverses by it)."""
        content_type, body = self.post(infno, payload)
        if content_type == "application/octet-stream":
            raise Unreachable(f"{infno} 的应答是文件而不是 JSON（用 fetch_file 取文件）")
        try:
            answer: dict[str, Any] = json.loads(body)
        except ValueError as exc:
            raise Unreachable(f"{self.url} 的应答不是 JSON：{exc}") from exc
        return answer

    def fetch_file(self, file_qury_no: str, filename: str = "plc") -> bytes | dict[str, Any]:
        """9102: the file's bytes, or the JSON answer (infcode -1) when it is refused."""
        payload = {
            "fsDownloadIn": {
                "file_qury_no": file_qury_no,
                "filename": filename,
                "fixmedins_code": "plc",
            }
        }
        content_type, body = self.post("9102", payload)
        if content_type == "application/octet-stream":
            return body
        try:
            answer: dict[str, Any] = json.loads(body)
        except ValueError as exc:
            raise Unreachable(f"{self.url} 的应答不是 JSON：{exc}") from exc
        return answer

    def post(self, infno: str, payload: dict[str, Any]) -> tuple[str, bytes]:
        """One signed message: the answer's media type and body."""
        self.last_msgid = self.msgid()
        envelope = {
            "infno": infno,
            "msgid": self.last_msgid,
            "mdtrtarea_admvs": self.region,
            "insuplc_admdvs": self.insured_region or self.region,
            "recer_sys_code": "YIBAO_CLI",
            "infver": "V1.0",
            "opter_type": "1",
            "opter": "cli",
            "opter_name": "参考客户端",
            "inf_time": f"{datetime.now(BEIJING):%Y-%m-%d %H:%M:%S}",
            "fixmedins_code": self.code,
            "fixmedins_name": self.name,
            "sign_no": self.sign_no,
            "input": payload,
        }
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's own server
            f"{self.url.rstrip('/')}/fsi/api/rsfComIfsService/callService",
            data=json.dumps(envelope, ensure_ascii=False).encode(),
            headers=self.headers(),
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.headers.get_content_type(), response.read()
        except (urllib.error.URLError, TimeoutError) as exc:
            raise Unreachable(f"无法连接 {self.url}：{exc}") from exc

    def call(self, infno: str, payload: dict[str, Any]) -> dict[str, Any]:
        """`send`, ending the command with the err_msg when the message fails."""
        try:
            answer = self.send(infno, payload)
        except Unreachable as exc:
            fail(str(exc))
        if not succeeded(answer):
            fail(f"{infno} 失败：{answer.get('err_msg')}")
        return answer

    def sign_in(self) -> str:
        answer = self.call("9001", {"signIn": {"opter_no": "cli", "mac": "", "ip": ""}})
        self.sign_no = answer["output"]["signinoutb"]["sign_no"]
        assert self.sign_no
        return self.sign_no


@fsi_app.callback()
def connect(
    ctx: typer.Context,
    url: str = typer.Option("http://127.0.0.1:8000", envvar="YIBAO_FSI_URL"),
    code: str = typer.Option("", envvar="YIBAO_FSI_CODE", help="fixmedins_code"),
    token: str = typer.Option("", envvar="YIBAO_FSI_TOKEN", help="paasToken"),
    region: str = typer.Option("", envvar="YIBAO_FSI_REGION", help="mdtrtarea_admvs"),
    insured_in: str = typer.Option(
        "", "--insured-in", envvar="YIBAO_FSI_INSURED_IN", help="insuplc_admdvs (异地就医)"
    ),
) -> None:
    if ctx.invoked_subcommand == "selftest":  # its own --base/--paasid/--token, demo defaults
        return
    if not code or not token:
        fail("需要 --code 和 --token（或 YIBAO_FSI_CODE、YIBAO_FSI_TOKEN）")
    ctx.obj = FsiClient(
        url=url, code=code.upper(), token=token, region=region, insured_region=insured_in
    )


@fsi_app.command("sign-in")
def sign_in(ctx: typer.Context) -> None:
    """9001: print the day's sign_no."""
    console.print(f"sign_no: {ctx.obj.sign_in()}")


@fsi_app.command("person")
def person(
    ctx: typer.Context,
    cert_type: str = typer.Option("02", help="01 ecToken | 02 ID number | 03 card"),
    cert_no: str = typer.Option(..., help="the ecToken, ID number or card number"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """1101: who is at the counter."""
    client: FsiClient = ctx.obj
    client.sign_in()
    output = client.call(
        "1101", {"data": {"mdtrt_cert_type": cert_type, "mdtrt_cert_no": cert_no}}
    )["output"]
    if as_json:
        print_json(output)
        return
    base = output["baseinfo"]
    console.print(f"{base['psn_name']}  psn_no {base['psn_no']}  证件 {base['certno']}")
    for insu in output["insuinfo"]:
        console.print(
            f"  险种 {insu['insutype']}  人员类别 {insu['psn_type']}  参保地 {insu['insuplc_admdvs']}"
            f"  个人账户余额 {insu['balc']} 元"
        )


def _items(specs: list[str], psn_no: str, mdtrt_id: str | None) -> tuple[list[dict[str, Any]], str]:
    """CODE:PRICE:COUNT → fee lines, and the bill's total in yuan (computed in fen)."""
    lines, total = [], 0
    for n, spec in enumerate(specs, start=1):
        try:
            code, price, count = spec.split(":")
            yuan, _, cents = price.partition(".")
            price_fen = int(yuan) * 100 + int((cents + "00")[:2])
            count_int = int(count)
        except ValueError:
            fail(f"--item 应为 编码:单价:数量（如 XA01ABD075A002010100483:12.50:2），收到 {spec!r}")
        amount = price_fen * count_int
        total += amount
        line = {
            "feedetl_sn": str(n),
            "psn_no": psn_no,
            "med_list_codg": code,
            "medins_list_codg": code,
            "pric": f"{price_fen // 100}.{price_fen % 100:02d}",
            "cnt": str(count_int),
            "det_item_fee_sumamt": f"{amount // 100}.{amount % 100:02d}",
            "fee_ocur_time": f"{datetime.now(BEIJING):%Y-%m-%d %H:%M:%S}",
        }
        if mdtrt_id:
            line["mdtrt_id"] = mdtrt_id
        lines.append(line)
    return lines, f"{total // 100}.{total % 100:02d}"


@fsi_app.command("bill")
def bill(
    ctx: typer.Context,
    psn_no: str = typer.Option(...),
    cert_no: str = typer.Option(..., help="ID number (or ecToken with --cert-type 01)"),
    cert_type: str = typer.Option("02"),
    item: list[str] = typer.Option(..., help="CODE:PRICE:COUNT, repeat for each line"),
    insutype: str = typer.Option("310"),
    use_account: bool = typer.Option(True, "--account/--no-account", help="acct_used_flag"),
    settle: bool = typer.Option(False, "--settle", help="settle (2207/2102), not only pre-settle"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """A hospital: 2201 → 2204 → 2206 [→ 2207]. A pharmacy: 2101 [→ 2102]."""
    client: FsiClient = ctx.obj
    client.sign_in()
    cert = {"mdtrt_cert_type": cert_type, "mdtrt_cert_no": cert_no}
    common = {
        "psn_no": psn_no,
        "insutype": insutype,
        "acct_used_flag": "1" if use_account else "0",
        "psn_setlway": "01",
        **cert,
    }
    if client.code.startswith("P"):
        lines, total = _items(item, psn_no, None)
        sale = {
            "druginfo": {**common, "med_type": "41", "medfee_sumamt": total},
            "drugdetail": lines,
        }
        answer = client.call("2102" if settle else "2101", sale)
    else:
        visit = client.call(
            "2201", {"data": {"psn_no": psn_no, "insutype": insutype, "med_type": "11", **cert}}
        )
        mdtrt_id = visit["output"]["data"]["mdtrt_id"]
        lines, total = _items(item, psn_no, mdtrt_id)
        client.call("2204", {"feedetail": lines})
        data = {**common, "med_type": "11", "medfee_sumamt": total, "mdtrt_id": mdtrt_id}
        answer = client.call("2206", {"data": data})
        if settle:
            answer = client.call("2207", {"data": data})
    if as_json:
        print_json(answer["output"])
        return
    info = answer["output"]["setlinfo"]
    console.print(("结算完成 setl_id " + info["setl_id"]) if settle else "预结算（未扣款）")
    console.print(
        f"总费用 {info['medfee_sumamt']}  统筹支付 {info['hifp_pay']}  个人账户 {info['acct_pay']}"
        f"  共济 {info['acct_mulaid_pay']}  现金 {info['psn_cash_pay']}  余额 {info['balc']}"
    )
    if answer.get("warn_msg"):
        console.print(f"提示: {answer['warn_msg']}", highlight=False)


@fsi_app.command("cancel")
def cancel(
    ctx: typer.Context,
    setl_id: str = typer.Option(...),
    psn_no: str = typer.Option(...),
    mdtrt_id: str = typer.Option(None),
) -> None:
    """2208 (hospital) or 2103 (pharmacy): cancel a settlement; the account is refunded."""
    client: FsiClient = ctx.obj
    client.sign_in()
    data = {"setl_id": setl_id, "psn_no": psn_no, "mdtrt_id": mdtrt_id}
    answer = client.call("2103" if client.code.startswith("P") else "2208", {"data": data})
    info = answer["output"]["setlinfo"]
    console.print(
        f"已撤销 {info['setl_id']}，个人账户退回 {info['acct_pay'].lstrip('-')} 元，余额 {info['balc']}"
    )


@fsi_app.command("download")
def download(
    ctx: typer.Context,
    infno: str = typer.Argument(..., help="1301, 1302, 1306, 1306A, 1309, 1320, 1322–1327"),
    ver: str = typer.Option("0", help="the largest ver you hold (0: everything)"),
    out: Path = typer.Option(Path("."), help="directory for the zip and its text file"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """A 13xx catalogue download: the records newer than --ver, fetched with 9102 by
    file_qury_no; writes the zip and its TAB-separated text file, prints the largest ver."""
    client: FsiClient = ctx.obj
    client.sign_in()
    made = client.call(infno, {"data": {"ver": ver}})["output"]
    try:
        content = client.fetch_file(made["file_qury_no"], made["filename"])
    except Unreachable as exc:
        fail(str(exc))
    if isinstance(content, dict):
        fail(f"9102 失败：{content.get('err_msg')}")
    out.mkdir(parents=True, exist_ok=True)
    (out / made["filename"]).write_bytes(content)
    try:  # the body is the zip itself: its CRCs check it arrived whole
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            (inner,) = archive.namelist()
            text = archive.read(inner).decode("utf-8")
    except (zipfile.BadZipFile, ValueError) as exc:
        fail(f"9102 取回的文件不是完整的 zip，请重新下载：{exc}")
    (out / inner).write_text(text, encoding="utf-8")
    lines = [line.split("\t") for line in text.splitlines()]
    # Each line's fields are in the kind's national order (`yibao catalogue kinds`); keep the
    # largest `ver` and send it next time to get only what changed.
    at = KINDS[infno].columns.index("ver") if infno in KINDS else None
    held = max((int(line[at]) for line in lines), default=None) if at is not None else None
    result = {"infno": infno, "records": len(lines), "file": str(out / inner), "ver": held}
    if as_json:
        print_json(result)
        return
    console.print(
        f"{infno}: {len(lines)} 条记录 → {out / inner}"
        + (f"；下次下载传 ver={held}" if held is not None else ""),
        highlight=False,
    )
