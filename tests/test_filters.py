import pytest
from werkzeug.datastructures import MultiDict

from registry.filters import SystemFilter, list_systems, parse_filter
from registry.text import fold
from tests.conftest import OPERATOR


@pytest.fixture
def portfolio(make_agency, make_capability, make_system):
    """A central platform, a province and one of its communes, each with a system."""
    docs = make_capability(code="document_management", name="Quản lý văn bản")
    members = make_capability(code="party_member_records", name="Hồ sơ đảng viên")
    central = make_agency(code="VPTW", name="Văn phòng Trung ương Đảng")
    province = make_agency(code="TU-NAN", name="Tỉnh ủy Nghệ An", level="province", block="locality")
    commune = make_agency(
        code="DU-NAN-X",
        name="Đảng ủy xã Hưng Nguyên",
        level="commune",
        block="locality",
        parent_id=province.id,
    )
    systems = {
        "platform": make_system(
            name="Hệ thống điều hành tác nghiệp",
            description="Quản lý văn bản và điều hành dùng chung",
            is_shared_platform=True,
            status="in_operation",
            owner_agency_id=central.id,
            capability_ids=[docs.id],
            estimated_cost_vnd=50_000_000_000,
            registered_year=2020,
        ),
        "province": make_system(
            name="Phần mềm quản lý văn bản tỉnh",
            description="Văn bản đến, văn bản đi",
            scope_level="province",
            status="in_operation",
            owner_agency_id=province.id,
            capability_ids=[docs.id],
            estimated_cost_vnd=2_000_000_000,
            registered_year=2021,
        ),
        "commune": make_system(
            name="Ứng dụng quản lý đảng viên xã",
            description="Danh sách đảng viên",
            scope_level="commune",
            owner_agency_id=commune.id,
            operator_agency_id=central.id,
            capability_ids=[members.id],
            registered_year=2022,
        ),
    }
    return systems


def names(session, **kwargs):
    return [s.name for s in list_systems(session, SystemFilter(**kwargs)).items]


def test_search_ignores_tone_marks_and_case(session, portfolio):
    assert names(session, q="VAN BAN tinh") == ["Phần mềm quản lý văn bản tỉnh"]
    assert names(session, q="đảng viên") == ["Ứng dụng quản lý đảng viên xã"]


def test_search_matches_public_codes(session, portfolio):
    code = portfolio["commune"].code
    assert names(session, q=code.lower()) == ["Ứng dụng quản lý đảng viên xã"]


def test_search_treats_like_wildcards_literally(session, portfolio):
    assert names(session, q="%") == []
    assert names(session, q="_") == []


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"statuses": ["draft"]}, ["Ứng dụng quản lý đảng viên xã"]),
        ({"level": "province"}, ["Phần mềm quản lý văn bản tỉnh"]),
        ({"shared": "yes"}, ["Hệ thống điều hành tác nghiệp"]),
        ({"shared": "no", "capability": "document_management"}, ["Phần mềm quản lý văn bản tỉnh"]),
        ({"capability": "unknown"}, []),
        ({"agency": "NOPE"}, []),
    ],
)
def test_filters(session, portfolio, kwargs, expected):
    assert names(session, **kwargs) == expected


def test_agency_filter_includes_agencies_below(session, portfolio):
    assert names(session, agency="TU-NAN") == [
        "Phần mềm quản lý văn bản tỉnh",
        "Ứng dụng quản lý đảng viên xã",
    ]
    assert names(session, agency="TU-NAN", agency_role="operator") == []


def test_agency_filter_by_role(session, portfolio):
    assert names(session, agency="VPTW", agency_role="owner") == ["Hệ thống điều hành tác nghiệp"]
    assert names(session, agency="VPTW", agency_role="operator") == ["Ứng dụng quản lý đảng viên xã"]
    assert len(names(session, agency="VPTW")) == 2


def test_sorting(session, portfolio):
    assert names(session, sort="-cost")[0] == "Hệ thống điều hành tác nghiệp"
    assert names(session, sort="name") == sorted(names(session), key=fold)
    assert names(session, sort="-code")[0] == "Ứng dụng quản lý đảng viên xã"


def test_pages_past_the_end_show_the_last_page(session, make_system):
    for i in range(30):
        make_system(name=f"Hệ thống {i:02d}")
    page = list_systems(session, SystemFilter(page=9, per_page=25))
    assert (page.page, page.pages, page.total, len(page.items)) == (2, 2, 30, 5)
    assert (page.first_index, page.last_index) == (26, 30)


def test_parse_reports_and_drops_bad_values():
    parsed = parse_filter(
        MultiDict(
            [
                ("status", "draft"),
                ("status", "bogus"),
                ("level", "district"),
                ("shared", "maybe"),
                ("sort", "evil"),
                ("page", "-3"),
                ("per_page", "1000"),
                ("agency_role", "king"),
            ]
        )
    )
    flt = parsed.filter
    assert flt.statuses == ["draft"]
    assert (flt.level, flt.shared, flt.sort, flt.page, flt.per_page, flt.agency_role) == (
        "",
        "",
        "",
        1,
        25,
        "any",
    )
    assert len(parsed.problems) == 6


def test_filter_round_trips_through_query_arguments():
    flt = SystemFilter(
        q="văn bản", statuses=["draft", "submitted"], agency="VPTW", shared="yes", sort="-cost", page=3
    )
    assert (
        parse_filter(
            MultiDict(
                [(k, v) for k, vs in flt.to_args().items() for v in (vs if isinstance(vs, list) else [vs])]
            )
        ).filter
        == flt
    )


def test_search_follows_edits_and_deletions(session, make_system):
    """On SQLite the words live in an FTS index kept in step by triggers: it must not go stale."""
    from registry.services.systems import SystemInput, update_system

    system = make_system(name="Cổng thông tin điện tử", description="Tin tức")
    assert names(session, q="cong thong tin") == ["Cổng thông tin điện tử"]
    data = SystemInput.from_system(system)
    data.name, data.description = "Hệ thống hội nghị truyền hình", "Họp trực tuyến"
    update_system(session, system, data, actor=OPERATOR, expected_version=system.version)
    assert names(session, q="cong thong tin") == []
    assert names(session, q="truyen hinh") == ["Hệ thống hội nghị truyền hình"]
    assert names(session, q="truyen hinh an") == []  # a short term is checked row by row
    session.delete(system)
    session.commit()
    assert names(session, q="truyen hinh") == []


def test_large_filtered_results_stop_counting_at_the_limit(session, make_system, monkeypatch):
    from registry import filters

    monkeypatch.setattr(filters, "COUNT_LIMIT", 5)
    for i in range(8):
        make_system(name=f"Cổng thông tin {i}")
    page = list_systems(session, SystemFilter(q="cong", per_page=25))
    assert (page.total, page.more, len(page.items), page.last_index) == (5, True, 8, 8)
    everything = list_systems(session, SystemFilter(per_page=25))
    assert (everything.total, everything.more) == (8, False)  # the unfiltered total stays exact
