"""《医疗保险个人账户结算单》 as a PDF.

ReportLab's built-in CJK font (STSong-Light, an Adobe CID font) needs no font file on the server;
PDF readers supply the glyphs, and text extraction gets the characters back.
"""

from __future__ import annotations

from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from yibao.kernel.clock import to_china
from yibao.kernel.money import format_yuan
from yibao.ledger.domain import ENTRY_KIND_NAMES, EntryKind
from yibao.statements.domain import Statement

FONT = "STSong-Light"
TITLE = "医疗保险个人账户结算单"


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def render_statement(statement: Statement) -> bytes:
    font = _font()
    title = ParagraphStyle("title", fontName=font, fontSize=16, leading=22, alignment=1)
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=14)
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=TITLE,
        author="yibao",
    )
    days = statement.days
    head = [
        Paragraph(TITLE, title),
        Spacer(1, 4 * mm),
        Paragraph(
            f"姓名：{statement.person_name}　　个人编号：{statement.psn_no}　　"
            f"身份证号：{statement.id_number_masked}",
            body,
        ),
        Paragraph(
            f"险种：{statement.insutype or '—'}　　参保地：{statement.region_name or '—'}", body
        ),
        Paragraph(f"结算期间：{days.since.isoformat()} 至 {days.until.isoformat()}", body),
        Paragraph(
            f"期初余额：{format_yuan(statement.opening_fen)} 元　　"
            f"本期划入：{format_yuan(statement.credits_fen)} 元　　"
            f"本期支出：{format_yuan(statement.debits_fen)} 元　　"
            f"期末余额：{format_yuan(statement.closing_fen)} 元",
            body,
        ),
        Spacer(1, 4 * mm),
    ]
    rows: list[list[str]] = [["日期时间", "摘要", "对方", "金额(元)", "余额(元)"]]
    rows.append(["", "期初余额", "", "", format_yuan(statement.opening_fen)])
    for line in statement.lines:
        rows.append(
            [
                to_china(line.at).strftime("%Y-%m-%d %H:%M"),
                ENTRY_KIND_NAMES.get(EntryKind(line.kind), line.kind),
                line.counterparty[:24],
                format_yuan(line.amount_fen),
                format_yuan(line.balance_after_fen),
            ]
        )
    rows.append(["", "期末余额", "", "", format_yuan(statement.closing_fen)])
    table = Table(rows, colWidths=[32 * mm, 26 * mm, 70 * mm, 24 * mm, 26 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, 8.5),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8f0fa")),
                ("ALIGN", (3, 0), (4, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#c7ccd1")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    foot = [
        Spacer(1, 5 * mm),
        Paragraph(
            f"打印时间：{to_china(statement.printed_at).strftime('%Y-%m-%d %H:%M')}（北京时间）　"
            f"共 {len(statement.lines)} 笔。本结算单由医保个人账户系统生成，数据以医保经办机构记录为准。",
            body,
        ),
    ]
    doc.build([*head, table, *foot])
    return buffer.getvalue()
