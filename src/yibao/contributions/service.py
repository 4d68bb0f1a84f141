"""Use cases of contributions: record one month, import a file of them (all or nothing)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.contributions import repository
from yibao.contributions.domain import (
    ContributionAmounts,
    InvalidContribution,
    credited_amount,
    parse_month,
    status_of,
)
from yibao.contributions.tables import Contribution
from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.domain import RegionRules, is_retired
from yibao.enrolment.tables import Person
from yibao.kernel.clock import Clock, china_today
from yibao.kernel.errors import DomainError
from yibao.kernel.idnumber import parse_id_number
from yibao.kernel.money import parse_yuan
from yibao.kernel.pii import PersonalDataCipher
from yibao.ledger import repository as ledger_repository
from yibao.ledger.domain import EntryKind


@dataclass(frozen=True, slots=True)
class ContributionRow:
    id_number: str
    month: str
    base: str
    employer_amount: str
    personal_amount: str
    arrived_on: date | None = None


@dataclass
class ImportReport:
    loaded: int = 0
    unchanged: int = 0
    credited_fen: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Parsed:
    line: int
    id_number: str
    month: str
    amounts: ContributionAmounts
    arrived_on: date | None


@dataclass(frozen=True, slots=True)
class _Checked:
    line: int
    person: Person
    month: str
    amounts: ContributionAmounts
    arrived_on: date | None


def _parse_row(row: ContributionRow, line: int) -> _Parsed:
    id_number = parse_id_number(row.id_number).value
    month = parse_month(row.month)
    amounts = ContributionAmounts(
        base_fen=parse_yuan(row.base, field="base"),
        employer_fen=parse_yuan(row.employer_amount, field="employer_amount"),
        personal_fen=parse_yuan(row.personal_amount, field="personal_amount"),
    )
    amounts.check()
    return _Parsed(line, id_number, month, amounts, row.arrived_on)


@dataclass
class _Holder:
    """What every month of one person needs, read once: enrolment rules and the locked account."""

    person: Person
    retired: bool
    credit_rate_bp: int
    retiree_monthly_credit_fen: int
    account: ledger_repository.PersonalAccount | None
    existing: dict[str, Contribution]


async def _holders(
    session: AsyncSession, persons: list[Person], months: set[str]
) -> dict[int, _Holder | DomainError]:
    """Each person's holder, read for all of them at once (a file has thousands of rows): their
    enrolments, their accounts locked in person order, and what is recorded for these months."""
    ids = [p.id for p in persons]
    enrolments = await enrolment_repository.main_enrolments(session, ids)
    accounts = await ledger_repository.accounts_for_persons(session, ids, lock=True)
    existing: dict[int, dict[str, Contribution]] = {}
    for record in await repository.for_persons_months(session, ids, sorted(months)):
        existing.setdefault(record.person_id, {})[record.month] = record
    holders: dict[int, _Holder | DomainError] = {}
    rules_by_region: dict[str, RegionRules] = {}
    for person in persons:
        enrolment = enrolments.get(person.id)
        if enrolment is None or enrolment.insutype != "310":
            holders[person.id] = InvalidContribution(
                "该参保人不是职工医保参保人，没有个人账户可划入"
            )
            continue
        if enrolment.admdvs not in rules_by_region:
            rules_by_region[enrolment.admdvs] = enrolment_repository.rules_of(
                await enrolment_repository.region(session, enrolment.admdvs)
            )
        rules = rules_by_region[enrolment.admdvs]
        holders[person.id] = _Holder(
            person=person,
            retired=is_retired(enrolment.psn_type),
            credit_rate_bp=rules.account_credit_rate_bp,
            retiree_monthly_credit_fen=rules.retiree_monthly_credit_fen,
            account=accounts.get(person.id),
            existing=existing.get(person.id, {}),
        )
    return holders


@dataclass
class _Plan:
    """One person's months as they will be written: new records and the entries crediting them."""

    holder: _Holder
    results: list[tuple[Contribution, bool]] = field(default_factory=list)
    fresh: list[Contribution] = field(default_factory=list)
    postings: list[ledger_repository.Posting] = field(default_factory=list)
    credited_records: list[Contribution] = field(default_factory=list)


def _plan_months(
    clock: Clock, holder: _Holder, months: list[tuple[str, ContributionAmounts, date | None]]
) -> _Plan:
    plan = _Plan(holder)
    now = clock.now()
    for month, amounts, arrived_on in months:
        existing = holder.existing.get(month)
        if existing is not None:
            same = (existing.base_fen, existing.employer_fen, existing.personal_fen) == (
                amounts.base_fen,
                amounts.employer_fen,
                amounts.personal_fen,
            )
            if not same:
                raise InvalidContribution(f"{month} 的缴费已入账且金额不同；更正须由经办人员办理")
            plan.results.append((existing, False))
            continue
        arrival = arrived_on or china_today(clock)
        credited = credited_amount(
            amounts,
            retired=holder.retired,
            credit_rate_bp=holder.credit_rate_bp,
            retiree_monthly_credit_fen=holder.retiree_monthly_credit_fen,
        )
        record = Contribution(
            person_id=holder.person.id,
            month=month,
            base_fen=amounts.base_fen,
            employer_fen=amounts.employer_fen,
            personal_fen=amounts.personal_fen,
            credited_fen=credited,
            arrived_on=arrival,
            status=status_of(amounts, month, arrival, retired=holder.retired),
            created_at=now,
        )
        plan.fresh.append(record)
        plan.results.append((record, True))
        if credited > 0:
            plan.credited_records.append(record)
            plan.postings.append(
                ledger_repository.Posting(
                    kind=EntryKind.CONTRIBUTION_CREDIT,
                    amount_fen=credited,
                    idempotency_key=f"contribution:{holder.person.id}:{month}",
                    counterparty="医保经办机构" if holder.retired else "个人缴费划入",
                    source_type="contribution",
                    source_id=month,
                )
            )
    if plan.postings and holder.account is None:
        raise InvalidContribution("该参保人没有个人账户")
    return plan


async def _write(session: AsyncSession, clock: Clock, plans: list[_Plan]) -> None:
    """Every planned record and the entries crediting them: one batch of entries, one flush."""
    batches = [(p.holder.account, p.postings) for p in plans if p.postings]
    entries = await ledger_repository.post_to_accounts(
        session, [(a, postings) for a, postings in batches if a is not None], clock.now()
    )
    credited = [p for p in plans if p.postings]
    for plan, written in zip(credited, entries, strict=True):
        for record, entry in zip(plan.credited_records, written, strict=True):
            record.ledger_entry_id = entry.id
    for plan in plans:
        for record in plan.fresh:
            plan.holder.existing[record.month] = record
    await repository.add_many(session, [record for plan in plans for record in plan.fresh])


# Persons read and written together: bounds the IN lists of the look-ups.
_PERSONS_PER_BATCH = 500


async def import_contributions(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    clock: Clock,
    rows: list[tuple[int, ContributionRow]],
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Every row is checked first; any bad row means nothing is written and all are reported."""
    report = ImportReport()
    parsed: list[_Parsed] = []
    for line, row in rows:
        try:
            parsed.append(_parse_row(row, line))
        except DomainError as exc:
            report.errors.append((line, exc.message))
    numbers = sorted({p.id_number for p in parsed})
    persons: dict[str, Person] = {}
    for start in range(0, len(numbers), _PERSONS_PER_BATCH):
        persons.update(
            await enrolment_repository.persons_by_id_numbers(
                session, cipher, numbers[start : start + _PERSONS_PER_BATCH]
            )
        )
    checked: list[_Checked] = []
    seen: set[tuple[int, str]] = set()
    for item in parsed:
        person = persons.get(item.id_number)
        if person is None:
            masked = parse_id_number(item.id_number).masked
            report.errors.append((item.line, f"找不到身份证号 {masked} 的参保人"))
            continue
        if (person.id, item.month) in seen:
            report.errors.append((item.line, f"文件中 {item.month} 的记录重复"))
            continue
        seen.add((person.id, item.month))
        checked.append(_Checked(item.line, person, item.month, item.amounts, item.arrived_on))
    if report.errors:
        report.errors.sort()
        return report
    # Lock accounts in a fixed order (by person) so concurrent imports cannot deadlock.
    checked.sort(key=lambda c: (c.person.id, c.month))
    by_person: dict[int, list[_Checked]] = {}
    for one in checked:
        by_person.setdefault(one.person.id, []).append(one)
    groups = list(by_person.values())
    for start in range(0, len(groups), _PERSONS_PER_BATCH):
        batch = groups[start : start + _PERSONS_PER_BATCH]
        holders = await _holders(
            session, [items[0].person for items in batch], {i.month for g in batch for i in g}
        )
        plans: list[_Plan] = []
        for items in batch:
            try:
                holder = holders[items[0].person.id]
                if isinstance(holder, DomainError):
                    raise holder
                plan = _plan_months(
                    clock, holder, [(i.month, i.amounts, i.arrived_on) for i in items]
                )
            except DomainError as exc:
                report.errors.append((items[0].line, exc.message))
                continue
            plans.append(plan)
            for record, created in plan.results:
                if created:
                    report.loaded += 1
                    report.credited_fen += record.credited_fen
                else:
                    report.unchanged += 1
            if progress:
                progress(len(items))
        if not report.errors:
            try:
                await _write(session, clock, plans)
            except DomainError as exc:
                report.errors.append((batch[0][0].line, exc.message))
    if report.errors:
        await session.rollback()
        report.loaded = report.unchanged = report.credited_fen = 0
        return report
    await session.commit()
    return report
