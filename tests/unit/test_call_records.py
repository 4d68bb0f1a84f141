"""Call records: what counts as abandoned, the figures per hour, the transcript round trip."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from yibao.calls.domain import (
    CallFacts,
    Said,
    figures_by_hour,
    is_abandoned,
    parse_transcript,
    transcript_json,
)


def facts(hour: int, *, queued: bool = False, taken: bool = False, ended: bool = True) -> CallFacts:
    return CallFacts(hour=hour, identified=False, queued=queued, taken=taken, ended=ended)


def test_abandoned_is_asked_for_an_agent_and_gone_before_one_took_it() -> None:
    assert is_abandoned(facts(9, queued=True))
    assert not is_abandoned(facts(9, queued=True, taken=True))
    assert not is_abandoned(facts(9, queued=True, ended=False))  # still waiting
    assert not is_abandoned(facts(9))  # never asked for an agent


def test_figures_by_hour() -> None:
    figures = figures_by_hour(
        [facts(10), facts(9, queued=True), facts(9, queued=True, taken=True), facts(9)]
    )
    assert [(f.hour, f.calls, f.asked_for_agent, f.abandoned) for f in figures] == [
        (9, 3, 2, 1),
        (10, 1, 0, 0),
    ]
    assert figures[0].abandonment_percent == 50
    assert figures[1].abandonment_percent is None


def test_transcript_round_trip() -> None:
    lines = [Said(datetime(2026, 12, 7, 8, 0, tzinfo=UTC), "ivr", "您好")]
    assert parse_transcript(json.dumps(transcript_json(lines))) == lines
