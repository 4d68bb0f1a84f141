"""Queries and row locks on the ledger. Never commits: the calling use case does."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.db.direct import Row, Sql, Step, direct, loaded_moved
from yibao.kernel.errors import Conflict
from yibao.ledger.domain import (
    AccountState,
    EntryKind,
    NoPersonalAccount,
    UnknownEntry,
    next_balance,
    reversal_amount,
)
from yibao.ledger.repository.reads import (
    balance_before as balance_before,
)
from yibao.ledger.repository.reads import (
    entries_between as entries_between,
)
from yibao.ledger.repository.reads import (
    entries_page as entries_page,
)

# Reads for pages and statements, and an account's status (rule 9: this module had passed 400
# lines).
from yibao.ledger.repository.reads import (
    entry_by_id as entry_by_id,
)
from yibao.ledger.repository.reads import (
    paid_for as paid_for,
)
from yibao.ledger.repository.reads import (
    paid_for_others as paid_for_others,
)
from yibao.ledger.repository.reads import (
    sum_of_entries as sum_of_entries,
)
from yibao.ledger.repository.status import freeze as freeze
from yibao.ledger.repository.status import unfreeze as unfreeze

# The ledger's rows as the other features see them: they read them here and never import
# `ledger.tables` (import-linter; docs/architecture.md rule 12).
from yibao.ledger.tables import LedgerEntry as LedgerEntry
from yibao.ledger.tables import PersonalAccount as PersonalAccount


async def account_for_person(
    session: AsyncSession, person_id: int, *, lock: bool = False
) -> PersonalAccount | None:
    stmt = _ACCOUNT_OF_PERSON_LOCKED if lock else _ACCOUNT_OF_PERSON
    return (await session.execute(stmt, {"person_id": person_id})).scalar_one_or_none()


_ACCOUNT_OF_PERSON = select(PersonalAccount).where(
    PersonalAccount.person_id == bindparam("person_id")
)
_ACCOUNT_OF_PERSON_LOCKED = _ACCOUNT_OF_PERSON.with_for_update()


async def accounts_for_persons(
    session: AsyncSession, person_ids: Sequence[int], *, lock: bool = False
) -> dict[int, PersonalAccount]:
    """Many persons' accounts (imports); with `lock`, locked in ascending person order."""
    stmt = (
        select(PersonalAccount)
        .where(PersonalAccount.person_id.in_(sorted(person_ids)))
        .order_by(PersonalAccount.person_id)
    )
    if lock:
        stmt = stmt.with_for_update()
    return {a.person_id: a for a in (await session.execute(stmt)).scalars()}


async def lock_account(session: AsyncSession, account_id: int) -> PersonalAccount:
    """Lock the paying account row before its balance is checked (rule 4).

    Callers that lock several accounts lock them in ascending id order, so two transactions
    never wait on each other in a cycle.
    """
    stmt = (
        select(PersonalAccount)
        .where(PersonalAccount.id == account_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    account = (await session.execute(stmt)).scalar_one_or_none()
    if account is None:
        raise NoPersonalAccount("该参保人没有职工医保个人账户")
    return account


# Settlement's hot path reads and locks accounts on the driver (db/direct/), in the use case's
# transaction; the ORM functions above serve everything else.
_STATE = "SELECT id, person_id, balance_fen, status FROM personal_accounts"
_STATE_OF_PERSON = Sql(f"{_STATE} WHERE person_id = :person_id")
_STATE_OF_PERSON_LOCKED = Sql(f"{_STATE} WHERE person_id = :person_id FOR UPDATE")
_STATE_BY_ID = Sql(f"{_STATE} WHERE id = :account_id")
_STATE_BY_ID_LOCKED = Sql(f"{_STATE} WHERE id = :account_id FOR UPDATE")


def _state(row: Row | None) -> AccountState | None:
    if row is None:
        return None
    return AccountState(row["id"], row["person_id"], row["balance_fen"], row["status"])


async def account_state_of_person(
    session: AsyncSession, person_id: int, *, lock: bool = False
) -> AccountState | None:
    db = await direct(session, transaction=True)
    sql = _STATE_OF_PERSON_LOCKED if lock else _STATE_OF_PERSON
    return _state(await db.fetchrow(sql, person_id=person_id))


async def account_state(
    session: AsyncSession, account_id: int, *, lock: bool = False
) -> AccountState | None:
    """With `lock`, as `lock_account`: ascending id order when locking several."""
    db = await direct(session, transaction=True)
    sql = _STATE_BY_ID_LOCKED if lock else _STATE_BY_ID
    return _state(await db.fetchrow(sql, account_id=account_id))


async def open_account(session: AsyncSession, person_id: int, now: datetime) -> PersonalAccount:
    existing = await account_for_person(session, person_id)
    if existing is not None:
        return existing
    account = PersonalAccount(
        person_id=person_id, balance_fen=0, status="active", opened_at=now, updated_at=now
    )
    session.add(account)
    await session.flush()
    return account


async def entry_by_key(session: AsyncSession, key: str) -> LedgerEntry | None:
    stmt = select(LedgerEntry).where(LedgerEntry.idempotency_key == key)
    return (await session.execute(stmt)).scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class Posting:
    kind: EntryKind
    amount_fen: int
    idempotency_key: str
    counterparty: str
    counterparty_code: str | None = None
    beneficiary_person_id: int | None = None
    source_type: str | None = None
    source_id: str | None = None
    reason: str | None = None
    reverses_entry_id: int | None = None


@dataclass(frozen=True, slots=True)
class NewEntry:
    """A ledger entry about to be appended: a `ledger_entries` row (less its id), whose
    `balance_after_fen` is also its account's new balance."""

    account_id: int
    kind: str
    amount_fen: int
    balance_after_fen: int
    idempotency_key: str
    counterparty: str
    counterparty_code: str | None
    beneficiary_person_id: int | None
    reverses_entry_id: int | None
    source_type: str | None
    source_id: str | None
    reason: str | None
    created_at: datetime


_ENTRY_COLUMNS = tuple(f.name for f in fields(NewEntry))


def next_entry(account: AccountState, posting: Posting, now: datetime) -> NewEntry:
    """The entry `posting` appends to this (locked) account: the one place an entry is made.
    next_balance refuses what the account cannot pay (or a frozen account's debit)."""
    return NewEntry(
        account_id=account.id,
        kind=posting.kind.value,
        amount_fen=posting.amount_fen,
        balance_after_fen=next_balance(
            account.balance_fen, posting.kind, posting.amount_fen, account.status
        ),
        idempotency_key=posting.idempotency_key,
        counterparty=posting.counterparty,
        counterparty_code=posting.counterparty_code,
        beneficiary_person_id=posting.beneficiary_person_id,
        reverses_entry_id=posting.reverses_entry_id,
        source_type=posting.source_type,
        source_id=posting.source_id,
        reason=posting.reason,
        created_at=now,
    )


def _state_of(account: PersonalAccount) -> AccountState:
    return AccountState(account.id, account.person_id, account.balance_fen, account.status)


def _row(entry: NewEntry) -> LedgerEntry:
    return LedgerEntry(**{name: getattr(entry, name) for name in _ENTRY_COLUMNS})


async def post(
    session: AsyncSession,
    account: PersonalAccount,
    posting: Posting,
    now: datetime,
    *,
    fresh: bool = False,
) -> LedgerEntry:
    """Append one entry to a locked account; a repeated idempotency key returns the first entry.

    `fresh`: the key names something made in this very transaction (a new settlement id), so no
    entry can hold it yet; the look-up is skipped and the unique key still refuses a duplicate.
    """
    existing = None if fresh else await entry_by_key(session, posting.idempotency_key)
    if existing is not None:
        if existing.account_id != account.id or existing.amount_fen != posting.amount_fen:
            raise Conflict(f"记账幂等键 {posting.idempotency_key} 已用于另一笔记录")
        return existing
    made = next_entry(_state_of(account), posting, now)
    entry = _row(made)
    session.add(entry)
    account.balance_fen = made.balance_after_fen
    account.updated_at = now
    await session.flush()
    return entry


# Appending entries inside another feature's one-statement write (settlement's 2207: the
# settlement, its entries and its notices in one round trip, settlement/repository/writing.py).
# The SQL for the ledger's tables is written here; the caller only composes the steps.


def entry_step(n: int) -> str:
    """The name of the step that appends the `n`th entry: `{entry_<n>}` in a later step's SQL
    stands for its id when it was asked to return it."""
    return f"entry_{n}"


def entry_steps(
    entries: Sequence[NewEntry], *, returning: Collection[int] = ()
) -> tuple[tuple[Step, ...], dict[str, Any]]:
    """The steps that append `entries` (to accounts locked beforehand) and move each account to
    its entry's balance, with their parameters (`e<n>_<column>`). `returning`: the entries whose
    id a later step refers to. Steps that touch one account twice must not be combined into one
    statement (its parts share a snapshot): see `db.direct.write_steps`."""
    params = {
        f"e{n}_{name}": getattr(entry, name)
        for n, entry in enumerate(entries)
        for name in _ENTRY_COLUMNS
    }
    return _entry_steps(len(entries), frozenset(returning)), params


@lru_cache(maxsize=32)
def _entry_steps(count: int, returning: frozenset[int]) -> tuple[Step, ...]:
    steps: list[Step] = []
    for n in range(count):
        steps.append(
            Step(
                entry_step(n),
                f"INSERT INTO ledger_entries ({', '.join(_ENTRY_COLUMNS)})"
                f" VALUES ({', '.join(f':e{n}_{c}' for c in _ENTRY_COLUMNS)})"
                + (" RETURNING id" if n in returning else ""),
                returns=n in returning,
            )
        )
        steps.append(
            Step(
                f"paid_{n}",
                f"UPDATE personal_accounts SET balance_fen = :e{n}_balance_after_fen,"
                f" updated_at = :e{n}_created_at WHERE id = :e{n}_account_id",
            )
        )
    return tuple(steps)


def entries_written(session: AsyncSession, entries: Sequence[NewEntry]) -> None:
    """After `entry_steps` ran: the accounts the session may hold in memory follow."""
    for entry in entries:
        loaded_moved(
            session,
            PersonalAccount,
            entry.account_id,
            balance_fen=entry.balance_after_fen,
            updated_at=entry.created_at,
        )


def account_moved(session: AsyncSession, account_id: int, balance_fen: int, now: datetime) -> None:
    """After a bulk write of an account's balance (`ledger.bulk`): the copy the session may hold
    follows."""
    loaded_moved(session, PersonalAccount, account_id, balance_fen=balance_fen, updated_at=now)


async def post_to_accounts(
    session: AsyncSession,
    batches: Sequence[tuple[PersonalAccount, list[Posting]]],
    now: datetime,
) -> list[list[LedgerEntry]]:
    """Append entries to several locked accounts in a few statements (imports, demo data): one
    look-up of the keys, one multi-row insert, one read of the new rows, whatever the count.

    Keys already posted return their first entry, as `post` does.
    """
    keys = [p.idempotency_key for _, postings in batches for p in postings]
    existing = await _entries_by_keys(session, keys)
    rows: list[dict[str, Any]] = []
    for account, postings in batches:
        balance = account.balance_fen
        for posting in postings:
            found = existing.get(posting.idempotency_key)
            if found is not None:
                if found.account_id != account.id or found.amount_fen != posting.amount_fen:
                    raise Conflict(f"记账幂等键 {posting.idempotency_key} 已用于另一笔记录")
                continue
            made = next_entry(
                AccountState(account.id, account.person_id, balance, account.status), posting, now
            )
            balance = made.balance_after_fen
            rows.append({name: getattr(made, name) for name in _ENTRY_COLUMNS})
        account.balance_fen = balance
        account.updated_at = now
    if rows:
        await session.execute(insert(LedgerEntry), rows)
        existing.update(await _entries_by_keys(session, [r["idempotency_key"] for r in rows]))
    await session.flush()
    return [[existing[p.idempotency_key] for p in postings] for _, postings in batches]


async def _entries_by_keys(session: AsyncSession, keys: list[str]) -> dict[str, LedgerEntry]:
    found: dict[str, LedgerEntry] = {}
    for start in range(0, len(keys), _KEYS_PER_LOOKUP):
        chunk = keys[start : start + _KEYS_PER_LOOKUP]
        stmt = select(LedgerEntry).where(LedgerEntry.idempotency_key.in_(chunk))
        found.update((e.idempotency_key, e) for e in (await session.execute(stmt)).scalars())
    return found


# Bound parameters per IN list: well under SQLite's and asyncpg's limits.
_KEYS_PER_LOOKUP = 1000


async def reverse(
    session: AsyncSession,
    account: PersonalAccount,
    original: LedgerEntry,
    *,
    idempotency_key: str,
    reason: str,
    now: datetime,
) -> LedgerEntry:
    if original.account_id != account.id:
        raise UnknownEntry("该记录不属于此账户")
    already = await reversal_of(session, original.id)
    if already is not None:
        return already
    amount = reversal_amount(EntryKind(original.kind), original.amount_fen)
    return await post(
        session,
        account,
        Posting(
            kind=EntryKind.REVERSAL,
            amount_fen=amount,
            idempotency_key=idempotency_key,
            counterparty=original.counterparty,
            counterparty_code=original.counterparty_code,
            beneficiary_person_id=original.beneficiary_person_id,
            reverses_entry_id=original.id,
            source_type=original.source_type,
            source_id=original.source_id,
            reason=reason,
        ),
        now,
    )


async def reversal_of(session: AsyncSession, entry_id: int) -> LedgerEntry | None:
    """The entry that reverses `entry_id`, if any (the database allows one)."""
    stmt = select(LedgerEntry).where(LedgerEntry.reverses_entry_id == entry_id)
    return (await session.execute(stmt)).scalar_one_or_none()
