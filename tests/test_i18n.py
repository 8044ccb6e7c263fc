"""Every message the code or templates can show has a Vietnamese translation, compiled."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "registry" / "translations" / "vi" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
METHODS = [("registry/**.py", "python"), ("templates/**.html", "jinja2")]


def _extracted() -> set[str]:
    found: set[str] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        ROOT, METHODS, keywords=KEYWORDS, options_map={"templates/**.html": {"extensions": "jinja2.ext.do"}}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _key(message_id: str | tuple[str, ...] | list[str]) -> str:
    """The singular form identifies a plural entry."""
    return message_id if isinstance(message_id, str) else message_id[0]


def _as_tuple(string: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return (string,) if isinstance(string, str) else tuple(string)


def test_every_message_has_a_vietnamese_translation():
    with open(CATALOG / "messages.po", "rb") as handle:
        catalog = read_po(handle)
    translated = {_key(m.id) for m in catalog if m.id and all(_as_tuple(m.string))}
    extracted = _extracted()
    assert len(extracted) > 150  # the extractor really read the code and templates
    missing = sorted(extracted - translated)
    assert missing == [], "run pybabel extract/update and translate: " + "; ".join(missing)


def test_compiled_catalog_matches_the_source():
    with open(CATALOG / "messages.po", "rb") as handle:
        source = {_key(m.id): _as_tuple(m.string) for m in read_po(handle) if m.id}
    with open(CATALOG / "messages.mo", "rb") as handle:
        compiled = {_key(m.id): _as_tuple(m.string) for m in read_mo(handle) if m.id}
    assert compiled == source, "run pybabel compile -d registry/translations"
