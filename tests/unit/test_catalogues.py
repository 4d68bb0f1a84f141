"""The English catalogue covers every string the pages mark, and the committed .mo matches the .po."""

from __future__ import annotations

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from yibao.family.domain import ACTION_NAMES, RELATION_NAMES, STATUS_NAMES
from yibao.web.i18n import LOCALE_DIR
from yibao.web.pages import labels
from yibao.web.pages.home import module_for


def _po(locale: str):  # type: ignore[no-untyped-def]
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def test_every_marked_string_has_an_english_translation() -> None:
    with (LOCALE_DIR / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    english = _po("en")
    wanted = {m.id for m in template if m.id}
    translated = {m.id for m in english if m.id and m.string}
    assert wanted - translated == set()
    assert len(wanted) > 100


def test_committed_mo_is_the_compiled_po() -> None:
    english = _po("en")
    with (LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        compiled = read_mo(handle)
    assert {m.id: m.string for m in english if m.id} == {m.id: m.string for m in compiled if m.id}


def test_search_words_pick_the_longest_match() -> None:
    assert module_for("我想查询医保余额").key == "query"  # type: ignore[union-attr]
    assert module_for("医保电子凭证").key == "ecard"  # type: ignore[union-attr]
    assert module_for("家庭共济怎么开通").key == "family"  # type: ignore[union-attr]
    assert module_for("  ") is None and module_for("天气") is None


def test_family_names_from_the_domain_are_in_the_english_catalogue() -> None:
    # The family pages translate the domain's names with _(name): each must be a catalogue id.
    assert {r.value: name for r, name in RELATION_NAMES.items()} == labels.FAMILY_RELATION
    assert {s.value: name for s, name in STATUS_NAMES.items()} == labels.FAMILY_STATUS
    assert labels.FAMILY_ACTION == ACTION_NAMES
    english = {m.id: m.string for m in _po("en") if m.id}
    assert english["已暂停"] == "Paused" and english["配偶"] == "Spouse"
    names = [*RELATION_NAMES.values(), *STATUS_NAMES.values(), *ACTION_NAMES.values()]
    assert [n for n in names if not english.get(n)] == []
