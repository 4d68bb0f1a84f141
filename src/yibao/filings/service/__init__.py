"""Use cases of 异地就医备案: file, change, cancel, list; the region's rules. The only commits.

Every change is on the audit trail (`filings.filed`, `filings.changed`, `filings.cancelled`,
`filings.rules_set`), with the person as subject; the counter's read (`filings.view`) shows on
their 查询记录. A change someone else made for them (the counter, an institution's 2501/2502)
also reaches them as an in-app message (消息), written with the change. Uploaded proofs go through `kernel.uploads` (type by content, images
re-encoded) into the same store as 家庭共济's documents.

The package re-exports every public name: `applying` holds who files and what they ask for
(and the steps the use cases share), `filing` the use cases of a person's 备案 (the person's,
the counter's and an institution's), `rules` a region's rules.
"""

from yibao.filings.domain import FilingConflict
from yibao.filings.service.applying import (
    COUNTER_ROLES,
    MAX_DOCUMENT_BYTES,
    Actor,
    Application,
    Upload,
    document_store,
    institution_actor,
    new_serial,
    person_actor,
    staff_actor,
)
from yibao.filings.service.filing import (
    CounterView,
    cancel,
    cancel_for_institution_in,
    change,
    documents_of,
    file,
    file_for_institution_in,
    filing_of,
    filings_for_staff,
    filings_of,
)
from yibao.filings.service.rules import rules_for_person, rules_of, set_rules

__all__ = [
    "COUNTER_ROLES",
    "MAX_DOCUMENT_BYTES",
    "Actor",
    "Application",
    "CounterView",
    "FilingConflict",
    "Upload",
    "cancel",
    "cancel_for_institution_in",
    "change",
    "document_store",
    "documents_of",
    "file",
    "file_for_institution_in",
    "filing_of",
    "filings_for_staff",
    "filings_of",
    "institution_actor",
    "new_serial",
    "person_actor",
    "rules_for_person",
    "rules_of",
    "set_rules",
    "staff_actor",
]
