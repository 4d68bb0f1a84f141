"""13xx catalogue downloads (1301, 1302, 1306, 1306A, 1309, 1320, 1322–1327): the records newer
than the client's `ver`, as a zip fetched with 9102 (`fsi/handlers/files.py`)."""

from __future__ import annotations

from yibao.fsi.call import Call, Handler, Reply
from yibao.fsi.envelope import wall_time
from yibao.fsi.handlers.reading import data_or_input
from yibao.reference import service
from yibao.reference.domain import KINDS


def downloader(infno: str) -> Handler:
    kind = KINDS[infno]

    async def download(call: Call) -> Reply:
        data = data_or_input(call)
        made = await service.download(
            call.session,
            call.runtime.clock,
            kind=kind,
            ver=data.raw("ver"),
            fixmedins_code=call.caller.fixmedins_code,
            ttl_hours=call.runtime.settings.fsi_file_ttl_hours,
            where=f"{data.where}.ver",
        )
        return Reply(
            {
                "file_qury_no": made.file_qury_no,
                "filename": made.filename,
                "dld_endtime": wall_time(made.expires_at),
                "data_cnt": made.data_cnt,
            },
            [] if made.data_cnt else [f"没有比版本 {data.raw('ver') or 0} 更新的{kind.name}记录"],
        )

    download.__qualname__ = download.__name__ = f"download_{infno}"
    return download
