"""Bench worlds are kept across runs: one loaded under older migrations is migrated, not reloaded.

Loading 1,000,000 persons takes a quarter of an hour or more; a migration that adds a column,
drops an index or reshapes a table usually takes seconds to minutes on the same data. So when a
complete world's recorded schema is not the code's (`target.schema_fingerprint`), and every
revision the world is at is one the code knows (the code is ahead of it), the world is brought up
to date with `alembic upgrade heads`, as a deployment would be; a table whose storage options a
migration changed (a fillfactor) is rewritten (`VACUUM FULL`, up to REWRITE_LIMIT), as the load
would have laid it out under them; everything is analysed, and the world's record says so
(`upgrades`). A world that cannot be migrated — its revision unknown to the code (loaded
by another branch), a migration edited in place since (the revisions match, the text does not),
or an upgrade that fails — is reported and left to `yibao-bench load` to make again.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from yibao.db.migrate import alembic_config, upgrade
from yibao_bench.target import Target, schema_fingerprint


@dataclass(frozen=True)
class Found:
    """A world as the run needs it: its record when it is usable now, and what was done or why
    it cannot be used."""

    facts: dict[str, Any] | None
    note: str


async def _revisions(target: Target) -> list[str]:
    conn = await asyncpg.connect(target.dsn)
    try:
        rows = await conn.fetch("SELECT version_num FROM alembic_version ORDER BY 1")
    except asyncpg.UndefinedTableError:
        return []
    finally:
        await conn.close()
    return [str(r["version_num"]) for r in rows]


# A table whose storage options a migration changed (a fillfactor, say) is rewritten, as the
# load would have laid it out under them — up to this size; a larger one is left as it is and
# the upgrade's record says so.
REWRITE_LIMIT = 4 * 2**30


async def storage_options(target: Target) -> dict[str, tuple[list[str], int]]:
    conn = await asyncpg.connect(target.dsn)
    try:
        rows = await conn.fetch(
            "SELECT relname, coalesce(reloptions, '{}') AS options,"
            " pg_total_relation_size(oid) AS size FROM pg_class"
            " WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
        )
    finally:
        await conn.close()
    return {r["relname"]: (sorted(r["options"]), int(r["size"])) for r in rows}


async def settle_after_upgrade(
    target: Target, before: dict[str, tuple[list[str], int]]
) -> tuple[list[str], list[str]]:
    """Rewrite the tables whose storage options changed (within REWRITE_LIMIT), then ANALYZE
    everything; returns the tables rewritten and those left as they were."""
    after = await storage_options(target)
    changed = [t for t, (options, _) in after.items() if t in before and before[t][0] != options]
    rewritten = [t for t in changed if after[t][1] <= REWRITE_LIMIT]
    conn = await asyncpg.connect(target.dsn)
    try:
        for table in rewritten:
            await conn.execute(f'VACUUM (FULL) "{table}"')
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return rewritten, [t for t in changed if t not in rewritten]


def upgrade_plan(world_revisions: list[str], script: ScriptDirectory) -> str | None:
    """Why the world cannot be migrated by the code's migrations, or None when it can."""
    if not world_revisions:
        return "it records no Alembic revision"
    for revision in world_revisions:
        try:
            if script.get_revision(revision) is None:
                return f"its revision {revision} is not among the code's migrations"
        except CommandError:
            return f"its revision {revision} is not among the code's migrations"
    if set(world_revisions) == set(script.get_heads()):
        return "it is at the code's heads, but a migration's text changed since it was loaded"
    return None


def bring_up_to_date(target: Target) -> Found:
    """The world's record when it can be used under the code's schema, migrating it if needed."""
    facts = asyncio.run(target.recorded())
    if not facts.get("complete"):
        return Found(None, "no complete world")
    fingerprint = schema_fingerprint()
    if facts.get("schema") == fingerprint:
        return Found(facts, "current")
    try:
        revisions = asyncio.run(_revisions(target))
    except (OSError, asyncpg.PostgresError) as exc:
        return Found(None, f"its revision could not be read: {exc}")
    script = ScriptDirectory.from_config(alembic_config(target.url))
    refused = upgrade_plan(revisions, script)
    if refused:
        return Found(None, f"loaded under other migrations and {refused}")
    began = time.perf_counter()
    try:
        before = asyncio.run(storage_options(target))
        upgrade(target.url)
        rewritten, left = asyncio.run(settle_after_upgrade(target, before))
    except Exception as exc:  # any failure means: load the world again
        return Found(None, f"alembic upgrade failed: {str(exc)[:400]}")
    heads = asyncio.run(_revisions(target))
    done = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "from": revisions,
        "to": heads,
        "seconds": round(time.perf_counter() - began, 1),
        "rewritten": rewritten,
        "not_rewritten": left,
    }
    facts = {**facts, "schema": fingerprint, "upgrades": [*facts.get("upgrades", []), done]}
    asyncio.run(target.record(facts))
    was, now = set(revisions), set(heads)
    return Found(
        facts,
        f"migrated from {', '.join(sorted(was - now))} to {', '.join(sorted(now - was))}"
        f" in {done['seconds']} s",
    )
