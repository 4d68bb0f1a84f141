"""异地就医 at this deployment's institutions: the messages whose `insuplc_admdvs` is a region
another deployment serves (fsi/router.py routes them by `CROSS_REGION`, fsi/transactions.py).

`billing`: the person and the bill, with the home region's help (1101, 2201, 2204, 2206/2207,
2101/2102, 2208/2103, 2601 of a settlement). `visits`: around the bill (2001 asked of the home
region; 2203/2203A, 2205, 2202, 2601 of a 2201 or 2203 and 5203 from this side's records).
"""

from yibao.fsi.handlers.crossregion.billing import (
    cancel,
    person_info,
    pharmacy_pre_settle,
    pharmacy_settle,
    pre_settle,
    register,
    reverse_settlement,
    settle,
    upload_fees,
)
from yibao.fsi.handlers.crossregion.visits import (
    cancel_registration,
    check,
    query_settlement,
    reverse_registration,
    reverse_visit_info,
    upload_visit_info,
    withdraw_fees,
)

__all__ = [
    "cancel",
    "cancel_registration",
    "check",
    "person_info",
    "pharmacy_pre_settle",
    "pharmacy_settle",
    "pre_settle",
    "query_settlement",
    "register",
    "reverse_registration",
    "reverse_settlement",
    "reverse_visit_info",
    "settle",
    "upload_fees",
    "upload_visit_info",
    "withdraw_fees",
]
