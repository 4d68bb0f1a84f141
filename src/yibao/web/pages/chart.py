"""The monthly spending chart, drawn on the server as SVG (no script, readable by screen readers)."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from yibao.kernel.money import format_yuan
from yibao.statements.domain import MonthlyTotal

WIDTH, HEIGHT, TOP, BOTTOM = 340, 170, 18, 24
# 长辈版 draws the same chart narrower, so the page scales it up: its 15-unit labels show at
# about 19 px on a 360-px phone (the promise is 18 px), where the standard drawing would need
# labels too wide for their bars.
ELDER_WIDTH = 220


def spending_chart(months: list[MonthlyTotal], title: str, unit: str, width: int = WIDTH) -> Markup:
    peak = max((m.spent_fen for m in months), default=0)
    slot = width / max(len(months), 1)
    bar = slot * 0.62
    plot = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line x1="0" y1="{HEIGHT - BOTTOM}" x2="{width}" y2="{HEIGHT - BOTTOM}" class="axis"/>',
    ]
    for i, month in enumerate(months):
        spent = max(month.spent_fen, 0)
        height = 0 if peak <= 0 else max(round(plot * spent / peak), 2 if spent else 0)
        x = i * slot + (slot - bar) / 2
        y = HEIGHT - BOTTOM - height
        label = f"{month.month} {format_yuan(month.spent_fen)}{unit}"
        parts.append(
            f'<g data-month="{month.month}" data-fen="{month.spent_fen}">'
            f"<title>{escape(label)}</title>"
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height}" rx="2"/>'
            f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
            f"{int(month.month[5:])}</text></g>"
        )
        if peak > 0 and month.spent_fen == peak:
            # Anchor the label away from the edge it would run off (first and last bars).
            centre = x + bar / 2
            anchor, at = "middle", centre
            if centre < width * 0.15:
                anchor, at = "start", x
            elif centre > width * 0.85:
                anchor, at = "end", x + bar
            parts.append(
                f'<text class="peak" x="{at:.1f}" y="{max(y - 4, 10):.1f}" '
                f'text-anchor="{anchor}">{format_yuan(peak)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every dynamic part above is escaped or numeric
