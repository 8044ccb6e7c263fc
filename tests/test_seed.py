import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from registry.models import Agency, Dependency, InformationSystem, UsageReport
from registry.services.seed import SEED_DIR, SeedError, load_seed
from registry.services.systems import SystemInput, update_system
from tests.conftest import OPERATOR


def count(session, model, *conditions):
    return session.scalar(select(func.count()).select_from(model).where(*conditions))


@pytest.fixture
def seeded(session):
    return load_seed(session)


def test_demo_portfolio_is_realistic(session, seeded):
    provinces = count(session, Agency, Agency.level == "province", Agency.parent_id.is_(None))
    assert provinces == 34
    assert count(session, Agency, Agency.level == "commune") >= 20
    systems = count(session, InformationSystem)
    assert 150 <= systems <= 300
    names = set(session.scalars(select(InformationSystem.name)))
    for platform in ("Sổ tay đảng viên điện tử", "Cổng Dịch vụ công quốc gia"):
        assert any(platform.casefold() in n.casefold() for n in names), platform
    assert count(session, InformationSystem, InformationSystem.instance_of_id.is_not(None)) >= 20
    assert count(session, InformationSystem, InformationSystem.is_shared_platform.is_(True)) >= 8
    in_operation = InformationSystem.status == "in_operation"
    assert (
        count(session, InformationSystem, in_operation, InformationSystem.operator_agency_id.is_(None)) >= 1
    )
    assert (
        count(session, InformationSystem, in_operation, InformationSystem.operating_rules_ref.is_(None)) >= 1
    )
    isolated = ~InformationSystem.id.in_(select(Dependency.source_id)) & ~InformationSystem.id.in_(
        select(Dependency.target_id)
    )
    assert count(session, InformationSystem, isolated) >= 5
    assert count(session, InformationSystem, InformationSystem.status == "submitted") >= 1
    assert count(session, UsageReport) >= 50
    assert seeded.created["systems"] == systems


def test_loading_again_changes_nothing(session, seeded):
    before = {m: count(session, m) for m in (Agency, InformationSystem, Dependency, UsageReport)}
    again = load_seed(session)
    assert sum(again.created.values()) == 0
    assert again.existing["systems"] == before[InformationSystem]
    assert {m: count(session, m) for m in before} == before


def test_loading_again_keeps_what_people_edited(session, seeded):
    system = session.scalar(select(InformationSystem).order_by(InformationSystem.id))
    data = SystemInput.from_system(system)
    data.name = "Tên đã sửa bởi người dùng"
    update_system(session, system, data, actor=OPERATOR, expected_version=system.version)
    load_seed(session)
    session.expire_all()
    assert session.get(InformationSystem, system.id).name == "Tên đã sửa bởi người dùng"


def _broken_copy(tmp_path: Path, mutate) -> Path:
    target = tmp_path / "seed"
    shutil.copytree(SEED_DIR, target)
    path = sorted((target / "systems").glob("*.yaml"))[-1]
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(document["systems"])
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return target


def test_a_bad_record_is_reported_with_file_record_and_field_and_nothing_is_written(session, tmp_path):
    def break_last(systems):
        systems[-1]["status"] = "live"
        systems[-1]["security_level"] = "high"
        systems[0]["owner"] = "NO-SUCH-AGENCY"

    seed_dir = _broken_copy(tmp_path, break_last)
    with pytest.raises(SeedError) as exc:
        load_seed(session, seed_dir)
    text = "\n".join(exc.value.problems)
    assert "status" in text and "security_level" in text and "NO-SUCH-AGENCY" in text
    assert all(problem.split(":")[0].endswith(".yaml") for problem in exc.value.problems)
    assert count(session, InformationSystem) == 0
    assert count(session, Agency) == 0


def test_unreadable_yaml_is_reported(session, tmp_path):
    seed_dir = tmp_path / "seed"
    shutil.copytree(SEED_DIR, seed_dir)
    (seed_dir / "agencies.yaml").write_text("agencies: [unclosed", encoding="utf-8")
    with pytest.raises(SeedError, match="agencies.yaml: cannot be read"):
        load_seed(session, seed_dir)
    assert count(session, Agency) == 0
