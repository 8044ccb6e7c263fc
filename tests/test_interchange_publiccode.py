"""Reading publiccode.yml: one document, a stream, a list; foreign files; hostile YAML."""

from __future__ import annotations

import pytest
import yaml

from registry.interchange.publiccode import read_publiccode, safe_documents, to_publiccode
from registry.interchange.source import UnreadableFileError

FOREIGN = """\
publiccodeYmlVersion: "0.4"
name: Medusa
url: "https://example.com/italia/medusa.git"
platforms: [web]
categories: [document-management]
developmentStatus: stable
softwareType: standalone/web
description:
  en:
    shortDescription: A document manager
    longDescription: >
      A document manager for public administrations, with workflows, registers and
      archives, used by many municipalities and written to be reused.
    features: [Registers]
legal: {license: AGPL-3.0-or-later}
maintenance: {type: community, contacts: [{name: Someone}]}
localisation: {localisationReady: true, availableLanguages: [en]}
"""


def test_a_foreign_publiccode_yml_is_read_from_the_standard_keys():
    source = read_publiccode(FOREIGN.encode())
    assert source.format == "publiccode" and source.problems == []
    (record,) = source.records
    assert record.location == "document 1"
    assert record.values["name"] == "Medusa"
    assert record.values["description"].startswith("A document manager for public administrations")
    assert record.values["status"] == "in_operation"


def test_the_registry_extension_wins_over_the_standard_keys():
    document = to_publiccode(
        {"code": "HTTT-2026-000001", "name": "Quản lý văn bản", "description": "Văn bản", "status": "draft"},
        url="https://registry.test/systems/HTTT-2026-000001",
    )
    document["name"] = "Renamed elsewhere"
    (record,) = read_publiccode(yaml.safe_dump(document, allow_unicode=True).encode()).records
    assert record.values["name"] == "Quản lý văn bản" and record.values["code"] == "HTTT-2026-000001"


@pytest.mark.parametrize(
    "text, count",
    [
        (FOREIGN + "---\n" + FOREIGN.replace("Medusa", "Perseus") + "---\n", 2),
        ("- " + FOREIGN.replace("\n", "\n  ").rstrip() + "\n- " + FOREIGN.replace("\n", "\n  ").rstrip(), 2),
    ],
    ids=["stream", "list"],
)
def test_several_documents_in_a_stream_or_a_list(text, count):
    assert len(read_publiccode(text.encode()).records) == count


def test_documents_that_cannot_be_read_are_reported_and_the_others_kept():
    text = FOREIGN + "---\nkind: Component\n---\n" + FOREIGN.replace("name: Medusa\n", "")
    source = read_publiccode(text.encode())
    assert len(source.records) == 1
    assert [(location, column) for location, column, _ in source.problems] == [
        ("document 2", ""),
        ("document 3", "name"),
    ]
    assert "not a publiccode.yml" in str(source.problems[0][2])


@pytest.mark.parametrize(
    "data, message",
    [
        (b"name: [unclosed", "not valid YAML"),
        (b"\xff\xfe\x00n\x00a", "not UTF-8"),
        (b"", "no publiccode.yml document"),
        (b"a: &x [1, 2]\nb: *x\n", "anchors or aliases"),
        (b"!!python/object/apply:os.system ['echo hacked']", "not valid YAML"),
    ],
    ids=["not-yaml", "not-utf8", "empty", "alias", "python-tag"],
)
def test_unreadable_files_say_why(data, message):
    with pytest.raises(UnreadableFileError) as error:
        read_publiccode(data)
    assert message in str(error.value.message)


def test_a_billion_laughs_is_refused_before_it_expands():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(9)
    )
    with pytest.raises(UnreadableFileError) as error:
        safe_documents(bomb.encode())
    assert "line 1" in str(error.value.message)


def test_merge_key_bombs_are_refused_too():
    bomb = "a: &a {x: 1}\nb: &b {<<: [*a, *a]}\nc: {<<: [*b, *b]}\n"
    with pytest.raises(UnreadableFileError):
        read_publiccode(bomb.encode())


def test_a_huge_file_is_refused_before_parsing():
    with pytest.raises(UnreadableFileError) as error:
        read_publiccode(FOREIGN.encode() * 10, max_bytes=1000)
    assert "too large" in str(error.value.message)
