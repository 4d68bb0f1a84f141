"""9101 文件上传 and 9102 文件下载.

9102 answers the file's bytes as the HTTP body (`application/octet-stream`, named by
`Content-Disposition`), as national clients write that body straight to a .zip; a failure is the
usual JSON with infcode -1. The answer kept for its msgid is small JSON naming the file
(file_qury_no, filename, file_size, sha256), not the bytes: a retried msgid gets the file again
from the files feature (`resend`), while it is still the institution's and unexpired.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yibao.files import service
from yibao.files.domain import FileDamaged
from yibao.fsi.call import Attachment, Call, Reply
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
            "file_qury_no": found.file_qury_no,
            "filename": found.filename,
            "file_size": len(found.content),
            "sha256": found.sha256,
        },
        attachment=Attachment(found.filename, found.content),
    )


async def resend(call: Call, output: Mapping[str, Any]) -> Attachment:
    """A retried 9102: the file its first answer named, if still this institution's, unexpired
    and the same. (An answer kept before files were sent as bytes names no file_qury_no: the
    message's own is used.)"""
    file_qury_no = output.get("file_qury_no")
    if not isinstance(file_qury_no, str):
        file_qury_no = data_or_input(call, "fsDownloadIn").code("file_qury_no", max_len=64)
    found = await service.fetch(
        call.session,
        call.runtime.clock,
        fixmedins_code=call.caller.fixmedins_code,
        file_qury_no=file_qury_no,
    )
    if "sha256" in output and output["sha256"] != found.sha256:
        raise FileDamaged("文件已不是首次应答时的内容（SHA-256 不符），请用新的 msgid 重新下载")
    return Attachment(found.filename, found.content)
