"""Reading RIHA's JSON: owners become agencies, standard solutions become shared platforms."""

from __future__ import annotations

import json

import pytest

from registry.interchange.record import RecordProblems, typed
from registry.interchange.riha import read_riha
from registry.interchange.source import UnreadableFileError


def _entry(name, owner="70000898", *, uuid=None, status="IN_USE", standard=False, **details):
    return {
        "hasUsedSystemTypeRelations": standard,
        "details": {
            "name": name,
            "uuid": uuid or f"uuid-{name}",
            "short_name": name.lower(),
            "owner": {"code": owner, "name": f"Body {owner}"},
            "purpose": details.pop("purpose", "-"),
            "meta": {"system_status": {"status": status}},
            **details,
        },
    }


def _read(entries) -> list[dict]:
    return [r.values for r in read_riha(json.dumps({"content": entries}).encode()).records]


def test_an_entry_becomes_a_central_system_of_its_owner():
    entry = _entry(
        "Vangiregister",
        purpose="Kinnipeetavate andmed ühes keskkonnas.",
        topics=["Õiguskaitse"],
        stored_data=["Üldandmed", " "],
        legislations=[{"name": "Vangistusseadus", "url": "https://x"}],
    )
    source = read_riha(json.dumps({"content": [entry], "totalElements": 1}).encode())
    (record,) = source.records
    assert record.location == "content[0]"
    assert record.values == {
        "external_id": "riha:uuid-Vangiregister",
        "name": "Vangiregister",
        "description": "Kinnipeetavate andmed ühes keskkonnas.",
        "purpose": "Õiguskaitse; Üldandmed",
        "status": "in_operation",
        "scope_level": "central",
        "is_shared_platform": False,
        "owner_agency": "EE-70000898",
        "legal_basis": "Vangistusseadus",
    }
    (agency,) = source.agencies
    assert (agency.code, agency.name, agency.level, agency.block) == (
        "EE-70000898",
        "Body 70000898",
        "central",
        "state",
    )


@pytest.mark.parametrize(
    "status, expected",
    [("IN_USE", "in_operation"), ("FINISHED", "retired"), ("ESTABLISHING", "draft"), (None, "in_operation")],
)
def test_statuses(status, expected):
    (values,) = _read([_entry("X", status=status)])
    assert values["status"] == expected


def test_an_entry_without_purpose_is_described_by_its_name():
    (values,) = _read([_entry("Register", purpose="-")])
    assert values["description"] == "Register" and values["purpose"] is None


def test_a_standard_solution_is_one_platform_listed_first_and_named_by_its_deployments():
    entries = [_entry("Amphora", owner=str(n), standard=True) for n in range(3)]
    entries.append(_entry("Valla Amphora", owner="9"))
    entries.append(_entry("Rare product", owner="8", standard=True))
    source = read_riha(json.dumps({"content": entries}).encode())
    platform, *systems = [r.values for r in source.records]
    assert platform["is_shared_platform"] is True and platform["external_id"] == "riha:standard:amphora"
    assert platform["name"] == "Amphora" and platform["owner_agency"] == "EE-RIHA"
    assert "4 systems" in platform["description"]
    assert [s["instance_of"] for s in systems] == ["riha:standard:amphora"] * 4 + [None]
    assert "EE-RIHA" in {a.code for a in source.agencies}
    problems = RecordProblems()
    typed(platform, problems)
    assert not problems


def test_entries_without_name_or_owner_are_reported():
    entries = [_entry(""), {"details": {"name": "No owner"}}, "junk"]
    source = read_riha(json.dumps(entries).encode())
    assert source.records == []
    assert [(loc, col) for loc, col, _ in source.problems] == [
        ("content[0]", "name"),
        ("content[1]", "owner_agency"),
        ("content[2]", "name"),
    ]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"{not json", "not valid JSON"),
        (b'{"items": []}', "not RIHA"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_unreadable_files_say_why(data, message):
    with pytest.raises(UnreadableFileError) as error:
        read_riha(data)
    assert message in str(error.value.message)


def test_a_huge_file_is_refused():
    with pytest.raises(UnreadableFileError):
        read_riha(b"[" + b"{}," * 1000 + b"{}]", max_bytes=1000)
