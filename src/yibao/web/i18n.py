"""Languages and the large-type mode (长辈版), both chosen by cookie on every page.

zh_CN is the source language of the templates, so its catalogue is the identity; en has a
compiled catalogue under web/locale (committed, and recompiled from the .po at start when the
.po is newer, so a fresh clone shows both languages).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from fastapi import Request

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LOCALE = "zh_CN"
LOCALES = {"zh_CN": "中文", "en": "English"}
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
LANG_COOKIE = "yibao_lang"
ELDER_COOKIE = "yibao_elder"
DOMAIN = "messages"


def N_(message: str) -> str:
    return message


def compile_catalogues() -> None:
    """Write each .mo from its .po when the .po is newer (or the .mo is missing)."""
    for po_path in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as source:
            catalogue = read_po(source, locale=po_path.parent.parent.name)
        try:
            with mo_path.open("wb") as target:
                write_mo(target, catalogue)
        except OSError:
            # A read-only install keeps the committed .mo, which the test suite checks is current.
            continue


@cache
def translations(locale: str) -> NullTranslations:
    if locale == DEFAULT_LOCALE:
        return NullTranslations()
    compile_catalogues()
    return Translations.load(str(LOCALE_DIR), [locale], domain=DOMAIN)


def locale_of(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE, "")
    return chosen if chosen in LOCALES else DEFAULT_LOCALE


def elder_mode(request: Request) -> bool:
    return request.cookies.get(ELDER_COOKIE) == "1"


def gettext_for(request: Request, message: str) -> str:
    return translations(locale_of(request)).gettext(message)


def safe_next(raw: str | None) -> str:
    """Only a path on this site: never `//evil.example` or `https://…` (open redirect)."""
    if not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return "/"
    return raw
