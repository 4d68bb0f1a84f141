"""The IVR's backend over the use cases the phone pages use: identity (the ID number and the
card password), statements (balance, 消费记录, 缴费), family (家庭共济) and claims (报销).

Each look-up opens its own session and reads; nothing here writes except the identification,
whose use case commits its own try. The readings spoken are recorded (and audited) by the driver
in the step's record, together with the transcript."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.claims.domain import STATUS_NAMES, ClaimStatus
from yibao.claims.service import claim_reads
from yibao.family import service as family
from yibao.hotline.ivr import CallerRefused, Refusal
from yibao.hotline.readings import (
    LAST,
    AidPaid,
    Grant,
    MonthPaid,
    OpenClaim,
    Reading,
    Service,
    Spending,
)
from yibao.identity.domain import CardPasswordRejected, RateLimited
from yibao.identity.service import hotline as identity
from yibao.kernel.clock import china_today, to_china
from yibao.kernel.idnumber import InvalidIdNumber
from yibao.ledger.domain import NoPersonalAccount
from yibao.runtime import Runtime
from yibao.statements import service as statements
from yibao.statements.domain import ContributionMonth, parse_consumption_filter

OPEN_CLAIMS = {ClaimStatus.SUBMITTED, ClaimStatus.UNDER_REVIEW, ClaimStatus.APPROVED}


class UseCaseBackend:
    """One step's backend: `reads` lists what it read, `asked_for_agent` whether 0 was pressed."""

    def __init__(self, rt: Runtime, client: str) -> None:
        self.rt = rt
        self.client = client
        self.reads: list[str] = []
        self.asked_for_agent = False

    async def find_caller(self, id_number: str) -> int:
        async with self.rt.sessions() as s:
            try:
                return await identity.find_caller(self.rt, s, id_number, client=self.client)
            except InvalidIdNumber as exc:
                raise CallerRefused(Refusal.BAD_ID) from exc
            except identity.UnknownCaller as exc:
                raise CallerRefused(Refusal.UNKNOWN_PERSON) from exc
            except RateLimited as exc:
                raise CallerRefused(Refusal.THROTTLED) from exc

    async def check_card_password(self, person_id: int, card_password: str) -> None:
        async with self.rt.sessions() as s:
            try:
                await identity.identify_caller(
                    self.rt, s, person_id, card_password, client=self.client
                )
            except identity.NoCardPassword as exc:
                raise CallerRefused(Refusal.NO_CARD_PASSWORD) from exc
            except identity.CardPasswordLocked as exc:
                until = str(exc.details.get("until", ""))
                raise CallerRefused(Refusal.LOCKED, until=until) from exc
            except CardPasswordRejected as exc:
                left = exc.details.get("left", 0)
                raise CallerRefused(
                    Refusal.WRONG_PASSWORD, left=left if isinstance(left, int) else 0
                ) from exc
            except RateLimited as exc:
                raise CallerRefused(Refusal.THROTTLED) from exc

    async def ask_for_agent(self) -> None:
        self.asked_for_agent = True

    async def read(self, person_id: int, service: Service) -> Reading:
        async with self.rt.sessions() as s:
            reading = await _READERS[service](self.rt, s, person_id)
        self.reads.append(service.value)
        return reading


async def _balance(rt: Runtime, s: AsyncSession, person_id: int) -> Reading:
    overview = await statements.account_overview(s, rt.clock, person_id)
    return Reading(
        Service.BALANCE,
        has_account=overview.has_account,
        balance_fen=overview.balance_fen,
        as_of=to_china(overview.as_of).date(),
    )


async def _consumption(rt: Runtime, s: AsyncSession, person_id: int) -> Reading:
    wanted = parse_consumption_filter(
        since=None, until=None, kind=None, institution=None, scope=None, today=china_today(rt.clock)
    )
    try:
        page = await statements.consumption_page(
            s, rt.clock, person_id, wanted, cursor=None, limit=LAST, counted=False
        )
    except NoPersonalAccount:
        return Reading(Service.CONSUMPTION, has_account=False)
    return Reading(
        Service.CONSUMPTION,
        spending=[
            Spending(
                day=to_china(r.at).date(),
                place=r.institution_name,
                total_fen=r.total_fen,
                account_fen=-r.account_change_fen,
            )
            for r in page.records
        ],
    )


async def _contributions(rt: Runtime, s: AsyncSession, person_id: int) -> Reading:
    today = china_today(rt.clock)
    history = await statements.contribution_history(
        s, rt.clock, person_id, since=f"{today.year:04d}-01", until=f"{today:%Y-%m}"
    )
    return Reading(
        Service.CONTRIBUTIONS,
        year=today.year,
        months=[
            MonthPaid(m.month, m.credited_fen, m.owing) for m in sorted(history.months, key=_month)
        ],
        credited_fen=history.credited_fen,
    )


def _month(m: ContributionMonth) -> str:
    return m.month


async def _family(rt: Runtime, s: AsyncSession, person_id: int) -> Reading:
    given = await family.family_page(s, rt.clock, person_id)
    received = await family.supporters(s, rt.clock, person_id)
    paid = await family.aid_paid_by(s, person_id)
    got = await family.aid_received(s, person_id)
    payments = sorted(
        {p.entry_id: p for p in [*paid, *got]}.values(),
        key=lambda p: (p.at, p.entry_id),
        reverse=True,
    )[:LAST]
    return Reading(
        Service.FAMILY,
        grants=[
            *(Grant(True, g.relation_name, g.other_name, g.status_name) for g in given),
            *(Grant(False, g.relation_name, g.other_name, g.status_name) for g in received),
        ],
        aid=[
            AidPaid(
                day=to_china(p.at).date(),
                place=p.institution,
                amount_fen=p.amount_fen,
                name=p.beneficiary_name if p.payer_person_id == person_id else p.payer_name,
                by_caller=p.payer_person_id == person_id,
            )
            for p in payments
        ],
    )


async def _claims(rt: Runtime, s: AsyncSession, person_id: int) -> Reading:
    claims = await claim_reads.claims_for_person(s, person_id)
    return Reading(
        Service.CLAIMS,
        claims=[
            OpenClaim(
                day=to_china(c.submitted_at).date(),
                place=c.fixmedins_name,
                amount_fen=c.medfee_sumamt_fen,
                status=STATUS_NAMES[c.status],
            )
            for c in claims
            if c.status in OPEN_CLAIMS
        ],
    )


_READERS = {
    Service.BALANCE: _balance,
    Service.CONSUMPTION: _consumption,
    Service.CONTRIBUTIONS: _contributions,
    Service.FAMILY: _family,
    Service.CLAIMS: _claims,
}
