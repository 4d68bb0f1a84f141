"""`yibao fsi selftest`: the must-pass (必验) transactions of a tier, run against a running yibao
the way a pharmacy POS or a clinic HIS would, with a pass/fail table and what is still missing.

`registry` holds the step framework, `steps/` one small function per transaction, and
`acceptance-list.tsv` the national acceptance list (which transactions each tier must pass).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

from yibao.cli.fsi_client import Unreachable
from yibao.cli.selftest import steps as _steps  # noqa: F401 - registers every step
from yibao.cli.selftest.registry import STEPS, Run, Skipped, Step, StepFailed, Tier

_COLUMN = {"pharmacy": "pharmacy", "clinic": "clinic"}


@dataclass(frozen=True, slots=True)
class Listed:
    infno: str
    name: str


def must_pass(tier: Tier) -> list[Listed]:
    """The tier's 必验 transactions, in the list's order."""
    text = resources.files(__package__).joinpath("acceptance-list.tsv").read_text("utf-8")
    rows = csv.DictReader(text.splitlines(), delimiter="\t")
    return [Listed(row["infno"], row["name"]) for row in rows if row[_COLUMN[tier]] == "Y"]


def steps_of(tier: Tier) -> list[Step]:
    return sorted((s for s in STEPS if tier in s.tiers), key=lambda s: s.order)


@dataclass(frozen=True, slots=True)
class Outcome:
    step: Step
    status: str  # "pass" | "fail" | "skip"
    detail: str


@dataclass(frozen=True, slots=True)
class Report:
    tier: Tier
    outcomes: list[Outcome]
    listed: list[Listed]

    @property
    def failed(self) -> bool:
        return any(o.status != "pass" for o in self.outcomes)

    @property
    def missing(self) -> list[Listed]:
        """必验 transactions the suite has no step for: yibao does not answer them yet."""
        covered = {o.step.infno for o in self.outcomes}
        return [t for t in self.listed if t.infno not in covered]

    @property
    def answered(self) -> list[Listed]:
        """必验 transactions whose step passed."""
        passed = {o.step.infno for o in self.outcomes if o.status == "pass"}
        return [t for t in self.listed if t.infno in passed]


def run_suite(run: Run) -> Report:
    """Every step of the run's tier in order; a step never stops the ones after it."""
    outcomes = []
    for step in steps_of(run.tier):
        try:
            outcomes.append(Outcome(step, "pass", step.run(run)))
        except Skipped as exc:
            outcomes.append(Outcome(step, "skip", str(exc)))
        except (StepFailed, Unreachable) as exc:
            outcomes.append(Outcome(step, "fail", str(exc)))
        except (KeyError, TypeError, ValueError, IndexError) as exc:  # an answer of the wrong shape
            outcomes.append(Outcome(step, "fail", f"应答格式不符：{type(exc).__name__} {exc}"))
    return Report(run.tier, outcomes, must_pass(run.tier))
