"""Text to speech for the telephone line: a sentence in, an 8 kHz mono 16-bit WAV out.

The default engine is Debian's `espeak-ng` (普通话: voice `cmn`; English: `en`), resampled by `sox`
to telephone audio. A production engine replaces it by configuration: YIBAO_HOTLINE_TTS_COMMAND
is a command line with `{voice}`, `{text}` and `{out}` (run without a shell) that writes an 8 kHz
WAV to `{out}`. The menu's fixed phrases are cached on disk by a digest of voice and text, so a
prompt is synthesised once; sentences with a caller's figures are made for the call only and
removed when it ends (they are personal data).
"""

from __future__ import annotations

import asyncio
import hashlib
import shlex
import shutil
import tempfile
import wave
from pathlib import Path

from yibao.hotline.phrases import EN, ZH

VOICES = {"zh": "cmn", "en": "en"}
RATE = 8000
# What may be cached: the script's phrases that take no values (no one's figures inside).
FIXED = frozenset(text for table in (ZH, EN) for text in table.values() if "{" not in text)


class SpeechFailed(RuntimeError):
    pass


class CommandSpeech:
    def __init__(self, cache_dir: Path, command: str = "") -> None:
        self.cache_dir = cache_dir
        self.command = command
        cache_dir.mkdir(parents=True, exist_ok=True)

    def _cached(self, voice: str, text: str) -> Path:
        digest = hashlib.sha256(f"{voice}\n{text}".encode()).hexdigest()[:32]
        return self.cache_dir / f"{digest}.wav"

    async def sentence(self, text: str, language: str, scratch: Path) -> Path:
        """A WAV of one sentence: from the cache for a fixed phrase, else made in `scratch`."""
        voice = VOICES.get(language, "cmn")
        if text in FIXED:
            path = self._cached(voice, text)
            if not path.exists():
                made = await self._make(voice, text, scratch)
                shutil.move(made, path)
            return path
        return await self._make(voice, text, scratch)

    async def reply(self, sentences: list[str], language: str, scratch: Path) -> Path:
        """One WAV for everything a step says (what the line plays in one go)."""
        parts = [await self.sentence(s, language, scratch) for s in sentences]
        out = Path(tempfile.mkstemp(suffix=".wav", dir=scratch)[1])
        join_wavs(parts, out)
        return out

    async def _make(self, voice: str, text: str, scratch: Path) -> Path:
        out = Path(tempfile.mkstemp(suffix=".wav", dir=scratch)[1])
        if self.command:
            values = {"voice": voice, "text": text, "out": str(out)}
            await _run([part.format(**values) for part in shlex.split(self.command)])
            return out
        raw = Path(tempfile.mkstemp(suffix=".raw.wav", dir=scratch)[1])
        try:
            await _run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), "--", text])
            await _run(
                ["sox", "-q", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(out),
                 "gain", "-3"]
            )  # fmt: skip
        finally:
            await asyncio.to_thread(raw.unlink, True)
        return out


async def _run(argv: list[str]) -> None:
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await process.communicate()
    if process.returncode != 0:
        # The command's own words, never the text (it may hold a caller's figures).
        raise SpeechFailed(f"{argv[0]} failed ({process.returncode}): {err.decode()[-200:]}")


def join_wavs(parts: list[Path], out: Path, pause_ms: int = 250) -> None:
    """Concatenate WAVs of the same format, with a short pause between sentences."""
    with wave.open(str(out), "wb") as target:
        target.setnchannels(1)
        target.setsampwidth(2)
        target.setframerate(RATE)
        silence = b"\0\0" * (RATE * pause_ms // 1000)
        for index, part in enumerate(parts):
            with wave.open(str(part), "rb") as source:
                if (source.getnchannels(), source.getsampwidth(), source.getframerate()) != (
                    1,
                    2,
                    RATE,
                ):
                    raise SpeechFailed("the speech engine must write 8 kHz mono 16-bit WAV")
                if index:
                    target.writeframes(silence)
                target.writeframes(source.readframes(source.getnframes()))
