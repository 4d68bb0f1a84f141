"""异地就医 between two deployments: the rules, without HTTP or SQL.

- The directory of regions says which deployment serves which region (`admdvs`), at which base
  URL, with which Ed25519 public key. A region served here is local; any other is a peer's.
- A message between deployments is signed by its sender over its kind, sender, timestamp, nonce
  and the SHA-256 of its body; the receiver refuses a bad signature, a timestamp outside the
  window and a nonce seen before. Answers are signed the same way by the answering deployment.
- Each message has an id and acts once: the insured region (参保地, A) keeps one claim per
  settlement message id. A settle message repeated gets the claim's figures; a settle message
  whose id was reversed first (the reversal overtook it) is refused, so a late copy never debits.
- 就医地目录, 参保地政策: the treatment region (B) prices each line on its own catalogue with the
  home region's 乙类 share, the home region (A) applies its deductible, ratio and cap against the
  person's year and takes the account part. A's ledger is the only place A's accounts change.
- Without a covering 备案 the home region refuses, or, where its rule allows, pays its fund part
  at a lower ratio (`UnfiledRule`).
- Reconciliation (对账) per day and treatment region: B's list of what it settled is the truth
  of what institutions were told; A reverses what it holds and B does not (B never answered it),
  and names what B holds that A does not (left to staff: it means a message B recorded without A).
- Clearing (清算) per month and pair of regions: both sides add up the same settled claims.
- When the home region cannot be reached, B refuses (`WhenUnreachable.REFUSE`, the default) or,
  where the home region allows it in the directory (`CASH`), settles the bill with no fund and
  no account part: the person pays the whole amount (全额垫付) and claims it back at home
  (零星报销). B delivers a record of it to A afterwards (retried until A takes it); A keeps it as
  a claim paid elsewhere (`ClaimStatus.CASH`), and a debit A had made under the same message id
  (B timed out after A committed) is reversed when the record or the day's reconciliation
  arrives, so the person never pays twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from yibao.kernel.errors import Conflict, DomainError, InvalidInput, NotFound


class PeerUnavailable(DomainError):
    """The other deployment did not answer (down, unreachable, too slow)."""

    code = "peer_unavailable"


class PeerRefused(DomainError):
    """The other deployment answered with a refusal (its err_msg is passed on)."""

    code = "peer_refused"


class BadPeerMessage(InvalidInput):
    code = "bad_peer_message"


class UnknownRegion(NotFound):
    code = "unknown_region"


class FilingRequired(DomainError):
    code = "filing_required"


class ClaimReversed(Conflict):
    code = "claim_reversed"


class UnfiledRule(StrEnum):
    REFUSE = "refuse"  # no 备案, no direct settlement
    LOWER_RATIO = "lower_ratio"  # settles, the fund ratio cut by `unfiled_ratio_cut_bp`


class WhenUnreachable(StrEnum):
    """What a treatment region does for this home region's insured when it cannot reach the
    home deployment (the home region's choice, published in the directory)."""

    REFUSE = "refuse"  # 本笔未结算，请稍后重试
    CASH = "cash"  # 全额垫付: settled with no fund and no account part, claimed back at home


class ClaimStatus(StrEnum):
    SETTLED = "settled"
    REVERSED = "reversed"
    CASH = "cash"  # paid in full elsewhere (A unreachable); 零星报销 at home


class SettlementMode(StrEnum):
    """How B settled a bill of another region's insured."""

    DIRECT = "direct"  # the home region took its part
    CASH = "cash"  # the home region unreachable: the person paid everything


@dataclass(frozen=True, slots=True)
class Peer:
    """One row of the directory."""

    admdvs: str
    region_name: str
    deployment: str
    base_url: str
    public_key: str  # base64 of the raw 32-byte Ed25519 key
    local: bool
    when_unreachable: WhenUnreachable = WhenUnreachable.REFUSE
    # The key the deployment is rolling to (None when not rolling): a message or an answer
    # signed with either verifies, so a deployment changes its key without a flag day.
    next_public_key: str | None = None

    @property
    def public_keys(self) -> tuple[str, ...]:
        return (self.public_key,) + ((self.next_public_key,) if self.next_public_key else ())


@dataclass(frozen=True, slots=True)
class HomePolicy:
    """参保地政策 as the home region publishes it to treatment regions."""

    admdvs: str
    deductible_fen: int
    fund_ratio_bp: int
    retiree_fund_ratio_bp: int
    yearly_cap_fen: int
    class_b_selfpay_bp: int
    unfiled_rule: UnfiledRule
    unfiled_ratio_cut_bp: int


def unfiled_ratio(ratio_bp: int, cut_bp: int) -> int:
    return max(ratio_bp - cut_bp, 0)


def signing_text(kind: str, sender: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """What a message's (or an answer's) signature covers: the body by its digest."""
    digest = hashlib.sha256(body).hexdigest()
    return f"yibao-peer-v1\n{kind}\n{sender}\n{timestamp}\n{nonce}\n{digest}".encode()


def within_window(timestamp: str, now_seconds: int, window_seconds: int) -> bool:
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    return abs(int(timestamp) - now_seconds) <= window_seconds


def settle_message_id(deployment: str, msgid: str) -> str:
    """The id of the settle message for an institution's msgid: the same for every retry of that
    msgid, so a retry after a crash gets the first answer and never a second debit."""
    return f"{deployment}:{msgid}"


def paid_in_full(medfee_sumamt_fen: int) -> dict[str, int]:
    """A cash settlement's money: no fund, no account, the whole bill the person's cash."""
    return {
        "act_pay_dedc_fen": 0,
        "fund_pay_fen": 0,
        "acct_pay_fen": 0,
        "cash_pay_fen": medfee_sumamt_fen,
        "balc_fen": 0,  # unknown here: the account is at home
    }


def delivery_backoff_seconds(attempts: int) -> int:
    """A record A has not taken yet is offered again after 15 s, 30 s … at most every 10 min,
    for as long as it takes: it is money the person is owed a record of."""
    return int(min(15 * 2 ** max(attempts - 1, 0), 600))


@dataclass(frozen=True, slots=True)
class Difference:
    """One line of a reconciliation: a settle message id, what each side holds, what was done."""

    message_id: str
    home: str | None  # A's status, None when A holds nothing
    treatment: str | None  # B's status, None when B holds nothing
    action: str  # "reversed_at_home" | "to_cash" | "reported"


@dataclass(frozen=True, slots=True)
class ClearingTotals:
    """A month of settled claims between a treatment region and a home region."""

    month: str
    treatment_admdvs: str
    home_admdvs: str
    count: int
    medfee_sumamt_fen: int
    fund_pay_fen: int
    acct_pay_fen: int
    cash_pay_fen: int

    def as_dict(self) -> dict[str, int | str]:
        return {
            "month": self.month,
            "treatment_admdvs": self.treatment_admdvs,
            "home_admdvs": self.home_admdvs,
            "count": self.count,
            "medfee_sumamt_fen": self.medfee_sumamt_fen,
            "fund_pay_fen": self.fund_pay_fen,
            "acct_pay_fen": self.acct_pay_fen,
            "cash_pay_fen": self.cash_pay_fen,
        }
