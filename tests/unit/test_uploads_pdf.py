"""PDF uploads: every spelling of an active name is refused, as a PDF reader would read it.

PDF 32000-1, 7.3.5: in a name, `#` and two hexadecimal digits stand for one byte, so
`/J#61vaScript` is `/JavaScript` to a reader. Dictionaries can also sit inside compressed object
streams (7.5.7), where no byte of the file spells the name.
"""

from __future__ import annotations

import base64
import re
import zlib

import pytest

from tests.support.documents import pdf
from yibao.kernel import uploads
from yibao.kernel.uploads import UploadRefused, clean, pdf_names

ACTIVE = [
    "JavaScript",
    "JS",
    "OpenAction",
    "AA",
    "Launch",
    "EmbeddedFile",
    "EmbeddedFiles",
    "FileAttachment",
    "RichMedia",
    "XFA",
    "SubmitForm",
    "ImportData",
    "GoToE",
    "GoToR",
]


def spellings(name: str) -> list[str]:
    """The name as written, one letter escaped (upper- and lower-case hex), every letter escaped."""
    first = f"#{ord(name[0]):02X}{name[1:]}"
    last = f"{name[:-1]}#{ord(name[-1]):02x}"
    every = "".join(f"#{ord(c):02X}" for c in name)
    return [name, first, last, every]


def with_object(body: str) -> bytes:
    return pdf(f"3 0 obj << {body} >> endobj\n".encode())


@pytest.mark.parametrize(
    "written", [s for name in ACTIVE for s in spellings(name)] + ["J#61vaScript", "Open#41ction"]
)
def test_every_spelling_of_an_active_name_is_refused(written: str) -> None:
    for body in (f"/{written} 4 0 R", f"/S /{written}", f"/Names [/{written}]"):
        with pytest.raises(UploadRefused, match="脚本"):
            clean(with_object(body), max_bytes=10_000)


def test_names_end_where_a_reader_ends_them() -> None:
    # A comment or a delimiter right after the name ends it; the name is still the action.
    for body in ("/Open#41ction%hidden\n4 0 R", "/J#53(app.alert(1))", "/A<</S/Launch>>"):
        with pytest.raises(UploadRefused):
            clean(with_object(body), max_bytes=10_000)
    # Split by white space or a comment, it is two names (or a name and a word) to a reader too.
    assert pdf_names(b"/Java Script /Open%x\nAction") == {b"Java", b"Open"}
    # Longer names that merely begin like one are ordinary (the old filter refused /JSFont).
    ordinary = with_object("/Type /Font /BaseFont /JSFont /AAA 1 /XFAx 2")
    assert clean(ordinary, max_bytes=10_000).data == ordinary


def object_stream(inner: bytes, filters: str = "/FlateDecode", data: bytes | None = None) -> bytes:
    packed = zlib.compress(inner) if data is None else data
    return pdf(
        b"4 0 obj << /Type /ObjStm /N 1 /First 4 /Filter "
        + filters.encode()
        + b" /Length %d >>\nstream\n" % len(packed)
        + packed
        + b"\nendstream\nendobj\n"
    )


def test_names_hidden_in_compressed_object_streams_are_found() -> None:
    with pytest.raises(UploadRefused, match="脚本"):
        clean(object_stream(b"5 0 << /OpenAction 6 0 R >>"), max_bytes=100_000)
    with pytest.raises(UploadRefused, match="脚本"):
        clean(object_stream(b"5 0 << /S /J#61vaScript >>"), max_bytes=100_000)
    hexed = zlib.compress(b"5 0 << /AA << /O 7 0 R >> >>").hex().encode() + b">"
    with pytest.raises(UploadRefused, match="脚本"):
        clean(object_stream(b"", "[/ASCIIHexDecode /FlateDecode]", data=hexed), max_bytes=100_000)
    a85 = base64.a85encode(zlib.compress(b"<< /Launch 1 >>")) + b"~>"
    with pytest.raises(UploadRefused, match="脚本"):
        clean(object_stream(b"", "[/ASCII85#44ecode /FlateDecode]", data=a85), max_bytes=100_000)
    # A filter not read here: what it holds cannot be checked, so the file is refused; so is an
    # encrypted file with object streams.
    for filters in ("/LZWDecode", "/RunLength#44ecode", "[/Crypt /FlateDecode]"):
        with pytest.raises(UploadRefused, match="无法检查"):
            clean(object_stream(b"", filters, data=b"\x80\x0b\x60\x50"), max_bytes=100_000)
    encrypted = object_stream(b"", data=b"\x13\x37" * 40).replace(
        b"trailer <<", b"trailer << /Encrypt 9 0 R"
    )
    with pytest.raises(UploadRefused, match="无法检查"):
        clean(encrypted, max_bytes=100_000)
    # An ordinary compressed page is accepted as it is.
    page = object_stream(b"5 0 << /Type /Page /Contents 6 0 R >>")
    assert clean(page, max_bytes=100_000).data == page


def test_a_dictionary_written_to_mislead_hides_nothing() -> None:
    hidden = zlib.compress(b"5 0 << /OpenAction 6 0 R >>")
    # The stream's dictionary names an image filter, or hides its real filter in a string, or an
    # `endstream` is planted inside the compressed bytes: every stream is still inflated whole.
    for filters in ("/DCTDecode", "/DCTDecode /X (obj /FlateDecode)"):
        with pytest.raises(UploadRefused, match="脚本"):
            clean(object_stream(b"", filters, data=hidden), max_bytes=100_000)
    # The stream keyword's line ended by a lone CR, as lenient readers accept.
    lone_cr = object_stream(b"", data=hidden).replace(b"stream\n", b"stream \r", 1)
    with pytest.raises(UploadRefused, match="脚本"):
        clean(lone_cr, max_bytes=100_000)
    planted = zlib.compressobj(level=0)
    stored = planted.compress(b"endstream " + b"5 0 << /Launch 6 0 R >>") + planted.flush()
    assert b"endstream" in stored
    with pytest.raises(UploadRefused, match="脚本"):
        clean(object_stream(b"", data=stored), max_bytes=100_000)


def test_many_stream_keywords_in_one_long_run_are_read_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 700,000 `stream` keywords in ASCII85-looking text that ends badly: each is tried, but the
    # text is read once, not once per keyword: the bytes the run scans take add up to about the
    # file's length, not 700,000 times it (counted, not timed).
    scanned = 0

    class Counted:
        def __init__(self, pattern: re.Pattern[bytes]) -> None:
            self.pattern = pattern

        def match(self, buffer: bytes, at: int) -> re.Match[bytes] | None:
            nonlocal scanned
            found = self.pattern.match(buffer, at)
            scanned += 0 if found is None else found.end() - at
            return found

    monkeypatch.setattr(uploads, "_A85_RUN", Counted(uploads._A85_RUN))
    monkeypatch.setattr(uploads, "_HEX_RUN", Counted(uploads._HEX_RUN))
    crowd = pdf(b"4 0 obj << >>\n" + b"stream\n" * 700_000 + b"\xff~>\n")
    assert clean(crowd, max_bytes=20_000_000).data == crowd
    assert 0 < scanned < 3 * len(crowd)


def test_a_flate_bomb_is_refused_not_inflated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "_PDF_DECODED_BUDGET", 1_000_000)
    bomb = object_stream(b"\x00" * 2_000_000)
    assert len(bomb) < 10_000
    with pytest.raises(UploadRefused, match="无法检查"):
        clean(bomb, max_bytes=100_000)
