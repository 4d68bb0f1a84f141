"""Reconciliation (对账) of an institution's settlements with yibao's.

Rules:
- A period is whole days of Beijing time, `stmt_begndate` to `stmt_enddate` inclusive, at most
  `MAX_PERIOD_DAYS` long. A settlement belongs to the day of its `setl_time`.
- What is counted is what stands: settlements of the period that are not cancelled. A settlement
  cancelled (2208/2103, or 2601 of the message that made it) counts in no period, as an HIS that
  marks the original void computes it; a detail line the institution sends twice, as a
  settlement (`refd_setl_flag` 0) and as its refund (1), stands for a cancelled one and drops out.
- 3201 (对总账) compares four figures of one insurance type and settlement class: the count, the
  bill total, the funds' total and the personal-account total. All equal: 平 (`stmt_rslt` 0);
  otherwise 不平 (1), and the description names each figure that differs with both values.
- 3202 (对明细账) compares line by line, keyed by `setl_id`: a settlement only yibao has (often one
  whose answer never reached the institution: it can confirm it after a 5203, or reverse it with
  2601), one only the institution has, and one whose amounts differ.
- A settlement an earlier 3202 found only at yibao, which a later 3202 of the institution lists
  with the same amounts, is confirmed: the confirmation is recorded once.

The package re-exports every public name: `comparing` holds the period, the totals and the
line-by-line comparison; `files` the 3202 detail file read and the result file written.
"""

from yibao.settlement.reconciliation.comparing import (
    AMOUNTS_MEMO,
    CLEARING_CLASSES,
    INSURANCE_TYPES,
    MATCH,
    MAX_PERIOD_DAYS,
    MISMATCH,
    YIBAO_ONLY_MEMO,
    DetailDifference,
    DetailLine,
    DetailResult,
    Difference,
    Period,
    Totals,
    TotalsResult,
    compare_details,
    compare_totals,
    describe_details,
    totals_of,
)
from yibao.settlement.reconciliation.files import (
    DETAIL_COLUMNS,
    DIFFERENCE_CODES,
    MAX_DETAIL_LINES,
    RESULT_COLUMNS,
    InvalidDetailFile,
    read_detail_file,
    result_file,
    result_line,
)

__all__ = [
    "AMOUNTS_MEMO",
    "CLEARING_CLASSES",
    "DETAIL_COLUMNS",
    "DIFFERENCE_CODES",
    "INSURANCE_TYPES",
    "MATCH",
    "MAX_DETAIL_LINES",
    "MAX_PERIOD_DAYS",
    "MISMATCH",
    "RESULT_COLUMNS",
    "YIBAO_ONLY_MEMO",
    "DetailDifference",
    "DetailLine",
    "DetailResult",
    "Difference",
    "InvalidDetailFile",
    "Period",
    "Totals",
    "TotalsResult",
    "compare_details",
    "compare_totals",
    "describe_details",
    "read_detail_file",
    "result_file",
    "result_line",
    "totals_of",
]
