"""The acceptance suite's steps: one per transaction, registered with `@step`, run in `order`.

A step is a small function that sends its transaction (and, when it needs them, the messages an
institution sends before it) through a signed `FsiClient`, checks the answer, and returns one
line for the table. It reads what earlier steps found (the person, the visit, the settlement)
from `Run.state` with `run.need(key)`, and leaves what later steps need with `run.keep`.

Adding a transaction to the suite is one function in a module of `selftest/steps/`:

    @step("2203", "门诊就诊信息上传", tiers=CLINIC, order=62)
    def upload_visit(run: Run) -> str:
        answer = run.call("2203", {"mdtrtinfo": {...}, "diseinfo": [...]})
        return f"mdtrt_id {run.need('mdtrt_id')}"

Orders (an institution's day): 10 sign-in, 20–29 who is at the counter, 30–59 reference data
and catalogues, 60–79 a visit and its fees, 80–89 settling, 90–99 reconciling, 100–119
reversal and cancellations, 120–149 stock (进销存), 200 sign-out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from yibao.cli.fsi_client import FsiClient, succeeded

Tier = Literal["pharmacy", "clinic"]
TIERS: tuple[Tier, ...] = ("pharmacy", "clinic")
PHARMACY: frozenset[Tier] = frozenset({"pharmacy"})
CLINIC: frozenset[Tier] = frozenset({"clinic"})
BOTH: frozenset[Tier] = frozenset(TIERS)


class StepFailed(Exception):
    """The transaction answered wrongly: the message says what was expected."""


class Skipped(Exception):
    """A step that needs what an earlier, failed step should have found."""


@dataclass
class Run:
    """One run of the suite: the signed client, the person at the counter, what steps found."""

    client: FsiClient
    tier: Tier
    cert_no: str  # the person's ID number (mdtrt_cert_type 02)
    items: tuple[str, ...]  # catalogue codes the bills use
    state: dict[str, Any] = field(default_factory=dict)

    def send(self, infno: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The answer as it comes (a step that expects a refusal reads its err_msg)."""
        return self.client.send(infno, payload)

    def call(self, infno: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The answer's `output`; `StepFailed` with the err_msg unless infcode is 0."""
        answer = self.send(infno, payload)
        if not succeeded(answer):
            raise StepFailed(f"{infno} infcode={answer.get('infcode')}：{answer.get('err_msg')}")
        output = answer.get("output")
        if not isinstance(output, dict):
            raise StepFailed(f"{infno} 的应答没有 output")
        return output

    def fetch_file(self, file_qury_no: str, filename: str = "plc") -> bytes:
        """9102: the file's bytes (the answer's body); `StepFailed` with the err_msg when the
        answer is JSON instead."""
        got = self.client.fetch_file(file_qury_no, filename)
        if isinstance(got, dict):
            raise StepFailed(f"9102 infcode={got.get('infcode')}：{got.get('err_msg')}")
        return got

    def keep(self, key: str, value: Any) -> None:
        self.state[key] = value

    def need(self, key: str) -> Any:
        if key not in self.state:
            raise Skipped(f"前序步骤未取得 {key}")
        return self.state[key]


@dataclass(frozen=True, slots=True)
class Step:
    infno: str
    name: str
    tiers: frozenset[Tier]
    order: int
    run: Callable[[Run], str]


STEPS: list[Step] = []


def step(
    infno: str, name: str, *, tiers: frozenset[Tier], order: int
) -> Callable[[Callable[[Run], str]], Callable[[Run], str]]:
    """Register the decorated function as the suite's step for `infno`."""

    def register(function: Callable[[Run], str]) -> Callable[[Run], str]:
        if any(s.infno == infno and s.tiers & tiers for s in STEPS):
            raise ValueError(f"selftest: {infno} 已有步骤")
        STEPS.append(Step(infno, name, tiers, order, function))
        return function

    return register


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise StepFailed(message)
