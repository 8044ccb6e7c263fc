import pytest

from registry.errors import NotFoundError, ValidationError
from registry.services.dependencies import add_dependency, neighbourhood, remove_dependency
from tests.conftest import OPERATOR


@pytest.fixture
def pair(make_system):
    vneid = make_system(name="VNeID", is_shared_platform=True, status="in_operation")
    app = make_system(name="Sổ tay đảng viên điện tử")
    return app, vneid


def test_dependencies_show_in_both_directions(session, pair):
    app, vneid = pair
    add_dependency(
        session,
        app,
        actor=OPERATOR,
        target_code=vneid.code.lower(),
        kind="authentication",
        note="  Đăng nhập  ",
    )
    around_app = neighbourhood(session, app)
    around_vneid = neighbourhood(session, vneid)
    assert [(e.other.name, e.dependency.kind, e.dependency.note) for e in around_app.outgoing] == [
        ("VNeID", "authentication", "Đăng nhập")
    ]
    assert [e.other.name for e in around_vneid.incoming] == ["Sổ tay đảng viên điện tử"]
    assert around_app.incoming == [] and around_vneid.outgoing == []


@pytest.mark.parametrize(
    ("target", "kind", "field"),
    [
        ("", "authentication", "target_code"),
        ("HTTT-1999-000001", "authentication", "target_code"),
        ("self", "authentication", "target_code"),
        ("other", "telepathy", "kind"),
    ],
)
def test_bad_dependencies_are_refused(session, pair, target, kind, field):
    app, vneid = pair
    code = {"self": app.code, "other": vneid.code}.get(target, target)
    with pytest.raises(ValidationError) as exc:
        add_dependency(session, app, actor=OPERATOR, target_code=code, kind=kind)
    assert field in exc.value.errors
    assert neighbourhood(session, app).outgoing == []


def test_the_same_dependency_is_recorded_once(session, pair):
    app, vneid = pair
    add_dependency(session, app, actor=OPERATOR, target_code=vneid.code, kind="authentication")
    with pytest.raises(ValidationError):
        add_dependency(session, app, actor=OPERATOR, target_code=vneid.code, kind="authentication")
    add_dependency(session, app, actor=OPERATOR, target_code=vneid.code, kind="data_exchange")
    assert len(neighbourhood(session, app).outgoing) == 2


def test_remove_only_from_its_own_source(session, pair):
    app, vneid = pair
    dependency = add_dependency(session, app, actor=OPERATOR, target_code=vneid.code, kind="authentication")
    with pytest.raises(NotFoundError):
        remove_dependency(session, vneid, dependency.id, actor=OPERATOR)
    remove_dependency(session, app, dependency.id, actor=OPERATOR)
    assert neighbourhood(session, app).outgoing == []


def test_a_platform_lists_its_deployments(session, make_system):
    platform = make_system(name="Cơ sở dữ liệu đảng viên", is_shared_platform=True)
    for province in ("Nghệ An", "Huế"):
        make_system(name=f"CSDL đảng viên {province}", instance_of_id=platform.id)
    around = neighbourhood(session, platform)
    assert around.deployment_count == 2
    assert [d.name for d in around.deployments] == ["CSDL đảng viên Huế", "CSDL đảng viên Nghệ An"]


def test_a_platform_with_many_dependants_shows_the_first_and_counts_all(session, make_system, monkeypatch):
    from registry.services import dependencies

    monkeypatch.setattr(dependencies, "INCOMING_SHOWN", 3)
    platform = make_system(name="VNeID", is_shared_platform=True)
    for i in range(5):
        add_dependency(
            session,
            make_system(name=f"Ứng dụng {i}"),
            actor=OPERATOR,
            target_code=platform.code,
            kind="authentication",
        )
    around = neighbourhood(session, platform)
    assert (len(around.incoming), around.incoming_count) == (3, 5)
