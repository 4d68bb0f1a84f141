"""The history of a chunk of persons: every row of every bulk table, built column-wise.

See `shape` for what the data keeps. Per calendar month, vectorised over the chunk's persons:
the previous month's contribution is credited, then one or two bills are settled; each step
appends its rows (ledger entries, contributions, settlements, items) to the chunk in time order.

The package: `people` (persons and enrolments), `months` (`generate`, the month-by-month
history) and `rows` (the rows each month's steps append).
"""

from yibao_bench.history.months import generate

__all__ = ["generate"]
