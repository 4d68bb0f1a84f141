"""A voucher sent as data only, rendered as a PDF the person can download and keep.

It says what it is: yibao's rendering of the data the institution uploaded, not the
institution's own layout file (版式文件). ReportLab's built-in CJK font needs no font file.
"""

from __future__ import annotations

from io import BytesIO

from reportlab.lib.pagesizes import A5, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

from yibao.kernel.clock import to_china
from yibao.kernel.money import format_yuan
from yibao.settlement.tables import Settlement
from yibao.settlement_vouchers.tables import SettlementVoucher

FONT = "STSong-Light"
TITLE = "电子结算凭证（凭证信息）"


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def render_voucher(row: SettlementVoucher, settlement: Settlement, person_name: str) -> bytes:
    font = _font()
    title = ParagraphStyle("title", fontName=font, fontSize=14, leading=20, alignment=1)
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=13)
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A5),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=10 * mm,
        bottomMargin=10 * mm,
        title=TITLE,
        author="yibao",
    )
    lines = [
        ("开票单位", f"{settlement.fixmedins_name}（{settlement.fixmedins_code}）"),
        ("交款人", person_name),
        ("结算号", row.setl_id),
        ("凭证代码 / 号码", f"{row.bill_code} / {row.bill_no}"),
        ("校验码", row.bill_chkcode),
        ("开票时间", f"{to_china(row.bill_time):%Y-%m-%d %H:%M:%S}"),
        ("医疗费总额", format_yuan(row.medfee_sumamt_fen)),
        ("基金支付", format_yuan(row.fund_pay_sumamt_fen)),
        ("个人账户支付", format_yuan(row.acct_pay_fen)),
        ("共济账户支付", format_yuan(row.acct_mulaid_pay_fen)),
        ("个人现金支付", format_yuan(row.psn_cash_pay_fen)),
        ("版本", f"第 {row.version} 版，SHA-256 {row.digest}"),
    ]
    table = Table(
        [[Paragraph(k, body), Paragraph(v, body)] for k, v in lines],
        colWidths=[35 * mm, 140 * mm],
    )
    note = (
        "本文件由医保平台根据医疗机构上传的电子结算凭证信息生成，不是医疗机构的版式文件；"
        "凭证真伪请以凭证代码、号码和校验码向开票单位或财政票据查验平台查验。"
    )
    doc.build([Paragraph(TITLE, title), Spacer(1, 3 * mm), table, Spacer(1, 3 * mm),
               Paragraph(note, body)])  # fmt: skip
    return buffer.getvalue()
