"""Reading Backstage catalog files: components, systems and groups written by hand elsewhere."""

from __future__ import annotations

import pytest

from registry.interchange.backstage import component, entity_name, read_backstage
from registry.interchange.source import UnreadableFileError

CATALOG = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: tu-nan, title: Tỉnh ủy Nghệ An}
spec: {type: province, parent: vptw, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: vptw}
spec: {type: department, profile: {displayName: Văn phòng Trung ương Đảng}, children: [tu-nan]}
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: dieu-hanh, title: Hệ thống điều hành tác nghiệp, description: Nền tảng dùng chung}
spec: {owner: group:default/vptw}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: qlvb-nghe-an, description: Văn bản đến và đi}
spec:
  type: service
  lifecycle: production
  owner: tu-nan
  system: dieu-hanh
  dependsOn: [component:default/vneid]
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: some-api}
spec: {type: openapi}
"""


def test_a_hand_written_catalog_is_read_from_metadata_and_spec():
    source = read_backstage(CATALOG.encode())
    assert source.format == "backstage"
    platform, system = source.records
    assert platform.values["is_shared_platform"] is True
    assert platform.values["name"] == "Hệ thống điều hành tác nghiệp"
    assert platform.values["owner_agency"] == "vptw"
    assert system.location == "document 4"
    assert system.values == {
        "name": "qlvb-nghe-an",
        "description": "Văn bản đến và đi",
        "code": "qlvb-nghe-an",
        "is_shared_platform": False,
        "status": "in_operation",
        "owner_agency": "tu-nan",
        "instance_of": "dieu-hanh",
        "depends_on": [{"code": "vneid", "kind": None}],
    }
    groups = {a.code: a for a in source.agencies}
    assert groups["tu-nan"].name == "Tỉnh ủy Nghệ An" and groups["tu-nan"].parent_code == "vptw"
    assert groups["tu-nan"].level == "province"
    assert groups["vptw"].name == "Văn phòng Trung ương Đảng" and groups["vptw"].level == "central"
    assert [(loc, col) for loc, col, _ in source.problems] == [("document 5", "")]
    assert "API" in str(source.problems[0][2])


def test_entities_without_a_name_or_kind_are_reported():
    text = "kind: Component\nmetadata: {title: x}\n---\n- just a list\n"
    source = read_backstage(text.encode())
    assert source.records == []
    assert [(loc, col) for loc, col, _ in source.problems] == [("document 1", "name"), ("document 2", "")]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"kind: [", "not valid YAML"),
        (b"# only a comment\n", "no Backstage entity"),
        (b"kind: &k Component\nother: *k\n", "anchors or aliases"),
    ],
)
def test_unreadable_catalogs_say_why(data, message):
    with pytest.raises(UnreadableFileError) as error:
        read_backstage(data)
    assert message in str(error.value.message)


def test_a_huge_catalog_is_refused():
    with pytest.raises(UnreadableFileError):
        read_backstage(CATALOG.encode() * 100, max_bytes=10_000)


@pytest.mark.parametrize(
    "code, name",
    [("HTTT-2026-000001", "HTTT-2026-000001"), ("EE-7000 0898/x", "EE-7000-0898-x"), ("--", "unnamed")],
)
def test_entity_names_follow_backstage_rules(code, name):
    assert entity_name(code) == name


def test_long_names_are_cut_to_63_characters():
    assert len(entity_name("A" * 100)) == 63


def test_a_shared_platform_is_a_system_and_keeps_its_columns_as_annotations():
    entity = component(
        {
            "code": "HTTT-1",
            "name": "VNeID",
            "description": "x",
            "is_shared_platform": True,
            "security_level": 4,
        }
    )
    assert entity["kind"] == "System" and "lifecycle" not in entity["spec"]
    assert entity["metadata"]["annotations"]["httt-registry/security_level"] == "4"
    assert entity["metadata"]["annotations"]["httt-registry/mandate"] == ""
