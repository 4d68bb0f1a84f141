"""9101 文件上传 and 9102 文件下载.

9102 answers the file in `output` (its bytes in base64, with name, size and SHA-256), a JSON
answer like every other: the router answers JSON and keeps each answer for its msgid.
"""

from __future__ import annotations

import base64

from yibao.files import service
from yibao.fsi.call import Call, Reply
from yibao.fsi.envelope import InvalidMessage, wall_time
from yibao.fsi.handlers.reading import data_or_input

PLATFORM = "plc"  # what clients send as fixmedins_code (and filename) for a platform file


async def upload(call: Call) -> Reply:
    body = data_or_input(call, "fsUploadIn")
    sent_for = body.code("fixmedins_code", required=False, max_len=30)
    if sent_for and sent_for != call.caller.fixmedins_code:
        raise InvalidMessage(f"{body.where}.fixmedins_code 应为本机构编号")
    stored = await service.upload(
        call.session,
        call.runtime.clock,
        fixmedins_code=call.caller.fixmedins_code,
        filename=body.text("filename", max_len=200),
        raw_content=body.raw("in"),
        max_bytes=call.runtime.settings.fsi_file_max_bytes,
        ttl_hours=call.runtime.settings.fsi_file_ttl_hours,
        where=body.where,
    )
    return Reply(
        {
            "file_qury_no": stored.file_qury_no,
            "filename": stored.filename,
            "dld_endtime": wall_time(stored.expires_at),
            "file_size": stored.size,
            "sha256": stored.sha256,
        }
    )


async def download(call: Call) -> Reply:
    body = data_or_input(call, "fsDownloadIn")
    sent_for = body.code("fixmedins_code", required=False, max_len=30)
    if sent_for and sent_for not in {PLATFORM, call.caller.fixmedins_code}:
        raise InvalidMessage(f"{body.where}.fixmedins_code 应为本机构编号或 plc")
    found = await service.fetch(
        call.session,
        call.runtime.clock,
        fixmedins_code=call.caller.fixmedins_code,
        file_qury_no=body.code("file_qury_no", max_len=64),
    )
    named = body.text("filename", required=False, max_len=200)
    if named and named not in {PLATFORM, found.filename}:
        raise InvalidMessage(f"{body.where}.filename 与文件查询号对应的文件名不符")
    return Reply(
        {
            "filename": found.filename,
            "file_size": len(found.content),
            "sha256": found.sha256,
            "file": base64.b64encode(found.content).decode("ascii"),
        }
    )
