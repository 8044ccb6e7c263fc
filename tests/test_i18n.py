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


def test_every_message_has_a_vietnamese_translation():
    with open(CATALOG / "messages.po", "rb") as handle:
        catalog = read_po(handle)
    translated = {m.id for m in catalog if m.id and m.string}
    extracted = _extracted()
    assert len(extracted) > 150  # the extractor really read the code and templates
    missing = sorted(extracted - translated)
    assert missing == [], "run pybabel extract/update and translate: " + "; ".join(missing)


def test_compiled_catalog_matches_the_source():
    with open(CATALOG / "messages.po", "rb") as handle:
        source = {m.id: m.string for m in read_po(handle) if m.id}
    with open(CATALOG / "messages.mo", "rb") as handle:
        compiled = {m.id: m.string for m in read_mo(handle) if m.id}
    assert compiled == source, "run pybabel compile -d registry/translations"
