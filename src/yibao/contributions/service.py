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
from yibao.enrolment.domain import is_retired
from yibao.enrolment.tables import Person
from yibao.kernel.clock import Clock, china_today
from yibao.kernel.errors import DomainError
from yibao.kernel.idnumber import parse_id_number
from yibao.kernel.money import parse_yuan
from yibao.kernel.pii import PersonalDataCipher
from yibao.ledger import repository as ledger_repository
from yibao.ledger.domain import EntryKind
from yibao.ledger.tables import PersonalAccount


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
class _Checked:
    line: int
    person: Person
    month: str
    amounts: ContributionAmounts
    arrived_on: date | None


async def _check_row(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    row: ContributionRow,
    line: int,
    persons: dict[str, Person | None],
) -> _Checked:
    id_number = parse_id_number(row.id_number).value
    month = parse_month(row.month)
    amounts = ContributionAmounts(
        base_fen=parse_yuan(row.base, field="base"),
        employer_fen=parse_yuan(row.employer_amount, field="employer_amount"),
        personal_fen=parse_yuan(row.personal_amount, field="personal_amount"),
    )
    amounts.check()
    if id_number not in persons:
        persons[id_number] = await enrolment_repository.person_by_id_number(
            session, cipher, id_number
        )
    person = persons[id_number]
    if person is None:
        raise InvalidContribution(f"找不到身份证号 {parse_id_number(id_number).masked} 的参保人")
    return _Checked(line, person, month, amounts, row.arrived_on)


@dataclass
class _Holder:
    """What every month of one person needs, read once: enrolment rules and the locked account."""

    person: Person
    retired: bool
    credit_rate_bp: int
    retiree_monthly_credit_fen: int
    account: PersonalAccount | None
    existing: dict[str, Contribution]


async def _holder(session: AsyncSession, person: Person) -> _Holder:
    enrolment = await enrolment_repository.main_enrolment(session, person.id)
    if enrolment is None or enrolment.insutype != "310":
        raise InvalidContribution("该参保人不是职工医保参保人，没有个人账户可划入")
    rules = enrolment_repository.rules_of(
        await enrolment_repository.region(session, enrolment.admdvs)
    )
    account = await ledger_repository.account_for_person(session, person.id, lock=True)
    existing = {c.month: c for c in await repository.for_person(session, person.id)}
    return _Holder(
        person=person,
        retired=is_retired(enrolment.psn_type),
        credit_rate_bp=rules.account_credit_rate_bp,
        retiree_monthly_credit_fen=rules.retiree_monthly_credit_fen,
        account=account,
        existing=existing,
    )


async def _record_months(
    session: AsyncSession,
    clock: Clock,
    holder: _Holder,
    months: list[tuple[str, ContributionAmounts, date | None]],
) -> list[tuple[Contribution, bool]]:
    """Record one person's months and credit the account with one batch of entries."""
    results: list[tuple[Contribution, bool]] = []
    fresh: list[Contribution] = []
    postings: list[ledger_repository.Posting] = []
    credited_records: list[Contribution] = []
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
            results.append((existing, False))
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
        holder.existing[month] = record
        fresh.append(record)
        results.append((record, True))
        if credited > 0:
            credited_records.append(record)
            postings.append(
                ledger_repository.Posting(
                    kind=EntryKind.CONTRIBUTION_CREDIT,
                    amount_fen=credited,
                    idempotency_key=f"contribution:{holder.person.id}:{month}",
                    counterparty="医保经办机构" if holder.retired else "个人缴费划入",
                    source_type="contribution",
                    source_id=month,
                )
            )
    if postings:
        if holder.account is None:
            raise InvalidContribution("该参保人没有个人账户")
        entries = await ledger_repository.post_many(session, holder.account, postings, now)
        for record, entry in zip(credited_records, entries, strict=True):
            record.ledger_entry_id = entry.id
    session.add_all(fresh)
    await session.flush()
    return results


async def record_contribution(
    session: AsyncSession,
    clock: Clock,
    person: Person,
    month: str,
    amounts: ContributionAmounts,
    arrived_on: date | None = None,
) -> Contribution:
    """Record one month and credit the account, as one use case."""
    holder = await _holder(session, person)
    [(record, _)] = await _record_months(session, clock, holder, [(month, amounts, arrived_on)])
    await session.commit()
    return record


async def import_contributions(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    clock: Clock,
    rows: list[tuple[int, ContributionRow]],
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Every row is checked first; any bad row means nothing is written and all are reported."""
    report = ImportReport()
    checked: list[_Checked] = []
    seen: set[tuple[int, str]] = set()
    persons: dict[str, Person | None] = {}
    for line, row in rows:
        try:
            item = await _check_row(session, cipher, row, line, persons)
        except DomainError as exc:
            report.errors.append((line, exc.message))
            continue
        if (item.person.id, item.month) in seen:
            report.errors.append((line, f"文件中 {item.month} 的记录重复"))
            continue
        seen.add((item.person.id, item.month))
        checked.append(item)
    if report.errors:
        return report
    # Lock accounts in a fixed order (by person) so concurrent imports cannot deadlock.
    checked.sort(key=lambda c: (c.person.id, c.month))
    by_person: dict[int, list[_Checked]] = {}
    for item in checked:
        by_person.setdefault(item.person.id, []).append(item)
    for items in by_person.values():
        try:
            holder = await _holder(session, items[0].person)
            results = await _record_months(
                session, clock, holder, [(i.month, i.amounts, i.arrived_on) for i in items]
            )
        except DomainError as exc:
            report.errors.append((items[0].line, exc.message))
            continue
        for record, created in results:
            if created:
                report.loaded += 1
                report.credited_fen += record.credited_fen
            else:
                report.unchanged += 1
        if progress:
            progress(len(items))
    if report.errors:
        await session.rollback()
        report.loaded = report.unchanged = report.credited_fen = 0
        return report
    await session.commit()
    return report
