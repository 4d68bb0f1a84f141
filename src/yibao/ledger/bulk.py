"""The ledger's repository for batch jobs: many accounts' entries in a few statements (a
province's monthly crediting). Never commits: the calling use case does.

The rules are `repository.post`'s: accounts locked (in ascending id order) before their balances
are read, `next_balance` decides each entry, an idempotency key already posted gives back its
first entry, and the database's unique key and CHECK constraints refuse what slips past.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.db.bulk import arrays, unnest
from yibao.db.direct import Sql, direct
from yibao.kernel.errors import Conflict, DomainError
from yibao.ledger.domain import NoPersonalAccount, next_balance
from yibao.ledger.repository import Posting, account_moved
from yibao.ledger.tables import LedgerEntry, PersonalAccount

_ENTRIES = cast(Table, LedgerEntry.__table__)
_ACCOUNTS = cast(Table, PersonalAccount.__table__)


@dataclass(frozen=True, slots=True)
class AccountPosting:
    account_id: int
    posting: Posting


# Bound parameters per IN list on SQLite (its limit is 32766; asyncpg takes arrays).
_PER_LIST = 1000

_ENTRY_COLUMNS = (
    ("account_id", "bigint"),
    ("kind", "text"),
    ("amount_fen", "bigint"),
    ("balance_after_fen", "bigint"),
    ("idempotency_key", "text"),
    ("counterparty", "text"),
    ("counterparty_code", "text"),
    ("beneficiary_person_id", "bigint"),
    ("source_type", "text"),
    ("source_id", "text"),
    ("reason", "text"),
)
_ENTRY_NAMES = [name for name, _ in _ENTRY_COLUMNS]

_LOCK = Sql(
    "SELECT id, balance_fen, status FROM personal_accounts WHERE id = ANY(:ids::bigint[])"
    " ORDER BY id FOR UPDATE"
)
_POSTED = Sql(
    "SELECT id, account_id, amount_fen, idempotency_key FROM ledger_entries"
    " WHERE idempotency_key = ANY(:keys::text[])"
)
# One statement: the entries and the accounts' new balances (different tables, one snapshot).
_WRITE = Sql(
    f"""
    WITH added AS (
        INSERT INTO ledger_entries ({", ".join(_ENTRY_NAMES)}, created_at)
        SELECT {", ".join(f"u.{n}" for n in _ENTRY_NAMES)}, :now::timestamptz
        FROM {unnest(_ENTRY_COLUMNS)}
        RETURNING id, idempotency_key
    ), moved AS (
        UPDATE personal_accounts a SET balance_fen = b.balance_fen, updated_at = :now::timestamptz
        FROM {unnest((("account", "bigint"), ("balance_fen", "bigint")), "b")}
        WHERE a.id = b.account
    )
    SELECT id, idempotency_key FROM added
    """  # noqa: S608 - fixed fragments of this module; every value is bound
)


async def post_many(
    session: AsyncSession,
    postings: Sequence[AccountPosting],
    now: datetime,
    *,
    locked: dict[int, tuple[int, str, bool]] | None = None,
) -> list[int | DomainError]:
    """Each posting's entry id, or the business reason it was not posted (the others still are).

    A key already in the ledger for the same account and amount gives back that entry's id, as
    `repository.post` does; for anything else it is a Conflict. `locked`: what `lock_accounts`
    gave for these accounts in this transaction (not locked again)."""
    if not postings:
        return []
    accounts = dict(locked) if locked is not None else {}
    missing = sorted({p.account_id for p in postings} - set(accounts))
    if missing:
        accounts.update(await lock_accounts(session, missing))
    posted = await _posted(session, [p.posting.idempotency_key for p in postings])
    results: list[int | DomainError] = []
    rows: list[tuple[Any, ...]] = []
    pending: dict[str, int] = {}  # key → index in `results` awaiting the new entry's id
    for item in postings:
        posting = item.posting
        key = posting.idempotency_key
        found = posted.get(key)
        if found is not None:
            same = found[1] == item.account_id and found[2] == posting.amount_fen
            results.append(found[0] if same else Conflict(f"记账幂等键 {key} 已用于另一笔记录"))
            continue
        if key in pending:
            results.append(Conflict(f"记账幂等键 {key} 在同一批中出现两次"))
            continue
        account = accounts.get(item.account_id)
        if account is None:
            results.append(NoPersonalAccount("该参保人没有职工医保个人账户"))
            continue
        try:
            balance = next_balance(account[0], posting.kind, posting.amount_fen, account[1])
        except DomainError as refused:
            results.append(refused)
            continue
        accounts[item.account_id] = (balance, account[1], True)
        pending[key] = len(results)
        results.append(0)
        rows.append(
            (
                item.account_id,
                posting.kind.value,
                posting.amount_fen,
                balance,
                key,
                posting.counterparty,
                posting.counterparty_code,
                posting.beneficiary_person_id,
                posting.source_type,
                posting.source_id,
                posting.reason,
            )
        )
    if rows:
        moved = [(a, state[0]) for a, state in accounts.items() if state[2]]
        for key, entry_id in (await _write(session, rows, moved, now)).items():
            results[pending[key]] = entry_id
        for account_id, balance in moved:
            account_moved(session, account_id, balance, now)
    return results


async def lock_accounts(
    session: AsyncSession, account_ids: Sequence[int]
) -> dict[int, tuple[int, str, bool]]:
    """id → (balance, status, False) of each account, locked in ascending id order (a batch
    that reads what depends on the balances locks them first; `post_many` locks them again)."""
    ids = sorted(set(account_ids))
    db = await direct(session, transaction=True)
    if db.postgres:
        found = await db.fetch(_LOCK, ids=ids)
        return {r["id"]: (r["balance_fen"], r["status"], False) for r in found}
    out: dict[int, tuple[int, str, bool]] = {}
    table = _ACCOUNTS
    for start in range(0, len(ids), _PER_LIST):
        stmt = select(table.c.id, table.c.balance_fen, table.c.status).where(
            table.c.id.in_(ids[start : start + _PER_LIST])
        )
        for r in (await session.execute(stmt)).all():
            out[r.id] = (r.balance_fen, r.status, False)
    return out


async def _posted(session: AsyncSession, keys: list[str]) -> dict[str, tuple[int, int, int]]:
    """key → (entry id, account id, amount) of the keys already in the ledger."""
    db = await direct(session, transaction=True)
    if db.postgres:
        found = await db.fetch(_POSTED, keys=keys)
        return {r["idempotency_key"]: (r["id"], r["account_id"], r["amount_fen"]) for r in found}
    out: dict[str, tuple[int, int, int]] = {}
    table = _ENTRIES
    for start in range(0, len(keys), _PER_LIST):
        stmt = select(
            table.c.id, table.c.account_id, table.c.amount_fen, table.c.idempotency_key
        ).where(table.c.idempotency_key.in_(keys[start : start + _PER_LIST]))
        for r in (await session.execute(stmt)).all():
            out[r.idempotency_key] = (r.id, r.account_id, r.amount_fen)
    return out


async def _write(
    session: AsyncSession,
    rows: list[tuple[Any, ...]],
    moved: list[tuple[int, int]],
    now: datetime,
) -> dict[str, int]:
    db = await direct(session, transaction=True)
    if db.postgres:
        params = arrays(_ENTRY_NAMES, rows) | arrays(("account", "balance_fen"), moved)
        found = await db.fetch(_WRITE, now=now, **params)
        return {r["idempotency_key"]: r["id"] for r in found}
    await session.execute(
        insert(_ENTRIES),
        [dict(zip(_ENTRY_NAMES, r, strict=True)) | {"created_at": now} for r in rows],
    )
    table = _ACCOUNTS
    await session.execute(
        update(table)
        .where(table.c.id == bindparam("account"))
        .values(balance_fen=bindparam("balance"), updated_at=bindparam("now")),
        [{"account": a, "balance": b, "now": now} for a, b in moved],
    )
    keys = [r[4] for r in rows]
    return {key: found[0] for key, found in (await _posted(session, keys)).items()}


# One statement per batch on PostgreSQL: each account's last entry before the moment, one probe
# of (account_id, created_at, id) per account.
_BALANCES_BEFORE = Sql(
    """
    SELECT a.id, (
      SELECT e.balance_after_fen FROM ledger_entries e
      WHERE e.account_id = a.id AND e.created_at < :moment::timestamptz
      ORDER BY e.created_at DESC, e.id DESC LIMIT 1
    ) AS balance
    FROM unnest(:ids::bigint[]) AS a(id)
    """
)


async def posted_keys(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    """Those of `keys` already in the ledger (a job that runs again tells them apart)."""
    return set(await _posted(session, list(keys)))


async def balances_before(
    session: AsyncSession, account_ids: Sequence[int], moment: datetime
) -> dict[int, int]:
    """account id → its balance just before `moment` (after its last entry made before then);
    accounts with no entry before `moment` are left out. One index probe per account on
    (account_id, created_at, id)."""
    ids = sorted(set(account_ids))
    db = await direct(session, transaction=True)
    if db.postgres:
        found = await db.fetch(_BALANCES_BEFORE, ids=ids, moment=moment)
        return {r["id"]: int(r["balance"]) for r in found if r["balance"] is not None}
    entries, accounts = _ENTRIES, _ACCOUNTS
    last = (
        select(entries.c.balance_after_fen)
        .where(entries.c.account_id == accounts.c.id, entries.c.created_at < moment)
        .order_by(entries.c.created_at.desc(), entries.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    out: dict[int, int] = {}
    for start in range(0, len(ids), _PER_LIST):
        stmt = select(accounts.c.id, last.label("balance")).where(
            accounts.c.id.in_(ids[start : start + _PER_LIST])
        )
        for r in (await session.execute(stmt)).all():
            if r.balance is not None:
                out[r.id] = int(r.balance)
    return out
