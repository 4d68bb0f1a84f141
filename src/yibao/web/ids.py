"""The bounds of every row id a route takes from the path, the query, a form or a JSON body.

Ids are BIGINT in both databases: a number past 2**63 - 1 names no row, and handed to the driver
it overflows there (a 500) instead of finding nothing. Every route declares its ids with these
types, so such a number, or one below 1, is refused as bad input (422, or the 填写有误 page)
before anything runs. `tests/web/test_route_ids.py` fails for a route that takes an unbounded id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Query
from pydantic import Field

MAX_ROW_ID = 2**63 - 1

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
RowIdQuery = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)]
RequiredRowIdQuery = Annotated[int, Query(ge=1, le=MAX_ROW_ID)]
RowIdForm = Annotated[int, Form(ge=1, le=MAX_ROW_ID)]
RowIdField = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
