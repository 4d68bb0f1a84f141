"""A visit between registration and settlement: what a 2203 must say, and which visits a 2202,
2203 or 2205 may still change. Pure; the in-region visit (`settlement.service.outpatient`) and the
visit a treatment region keeps of a person insured elsewhere (`crossregion`) obey the same rules.

- A 2203 carries at least one diagnosis, each with its own 排序号, and the medical type the visit
  was registered with.
- Only the institution's own open visit of that person may change: another's is "none" whatever
  its state (nothing of it is disclosed), a cancelled one is gone, a settled one's record is its
  settlement's until that is cancelled (2208).
"""

from __future__ import annotations

from dataclasses import dataclass

from yibao.kernel.errors import InvalidInput
from yibao.settlement.domain import UnknownVisit, VisitSettled

ALL_BATCHES = "0000"  # chrg_bchno of a 2205 that withdraws every unsettled line of the visit


@dataclass(frozen=True, slots=True)
class Diagnosis:
    diag_type: str  # 1 西医诊断, 2 中医主病诊断, 3 中医主证诊断
    diag_srt_no: int
    diag_code: str
    diag_name: str
    diag_dept: str | None = None
    dise_dor_no: str | None = None
    dise_dor_name: str | None = None
    diag_time: str | None = None
    vali_flag: str = "1"


@dataclass(frozen=True, slots=True)
class VisitInfo:
    """What a 2203 says of a visit: its condition, its disease and its diagnoses."""

    mdtrt_id: str
    psn_no: str
    med_type: str
    main_cond_dscr: str | None
    dise_codg: str | None
    dise_name: str | None
    diagnoses: tuple[Diagnosis, ...]


def check_diagnoses(info: VisitInfo) -> None:
    if not info.diagnoses:
        raise InvalidInput("diseinfo 不能为空：至少上传一条诊断")
    numbers = [d.diag_srt_no for d in info.diagnoses]
    if len(set(numbers)) != len(numbers):
        raise InvalidInput("diseinfo 的 diag_srt_no（诊断排序号）重复")


def check_med_type(info: VisitInfo, registered: str) -> None:
    if info.med_type != registered:
        raise InvalidInput(
            f"med_type {info.med_type} 与就诊 {info.mdtrt_id} 挂号时的医疗类别 {registered} 不符"
        )


def no_such_visit(mdtrt_id: str) -> UnknownVisit:
    """No visit of this person at this institution (or another's: nothing of it is said)."""
    return UnknownVisit(f"本机构没有该参保人的就诊 mdtrt_id={mdtrt_id}")


def check_open(status: str, mdtrt_id: str, *, doing: str) -> None:
    if status == "cancelled":
        raise UnknownVisit(f"就诊 {mdtrt_id} 已撤销")
    if status == "settled":
        raise VisitSettled(f"就诊 {mdtrt_id} 已结算，请先撤销结算（2208）再{doing}")
