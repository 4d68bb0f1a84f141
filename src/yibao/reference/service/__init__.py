"""Use cases of reference data: imports (commit), downloads and queries (inside the interface
message's transaction; they do not commit)."""

from yibao.reference.service.downloads import Download, download, national_values, rid_of, wall
from yibao.reference.service.imports import ImportReport, import_records
from yibao.reference.service.mappings import (
    MappingUpload,
    cancel_mapping_in,
    mapped_codes,
    upload_mapping_in,
)
from yibao.reference.service.queries import (
    PolicyItem,
    catalogue,
    institutions,
    mappings,
    policy_items,
    practitioner_lookup,
    records,
)

__all__ = [
    "Download",
    "ImportReport",
    "MappingUpload",
    "PolicyItem",
    "cancel_mapping_in",
    "catalogue",
    "download",
    "import_records",
    "institutions",
    "mapped_codes",
    "mappings",
    "national_values",
    "policy_items",
    "practitioner_lookup",
    "records",
    "rid_of",
    "upload_mapping_in",
    "wall",
]
