"""Generate a large synthetic portfolio, to measure the registry at national scale.

    python benchmarks/generate.py --systems 100000 --database-url sqlite:////tmp/bench.sqlite3
    python benchmarks/generate.py --systems 100000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/registry_bench --replace

The schema comes from the real Alembic migrations and rows go in through SQLAlchemy Core bulk
``insert()`` (executemany in batches): going through the services would take an hour at
100,000 systems and measure the loader instead of the pages. Derived columns (``search_text``,
``name_key``) are computed exactly as :mod:`registry.services.systems` does, so search and
sorting behave as on real data. The same ``--seed`` and ``--systems`` give the same database.
"""

from __future__ import annotations

import argparse
import bisect
import random
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import MetaData, Table, func, inspect, select, text
from sqlalchemy.engine import Connection, Engine

from registry import migrate
from registry.choices import PROPOSAL_STATUSES
from registry.config import normalise_database_url
from registry.db import make_engine
from registry.models import (
    Agency,
    Capability,
    DataDomain,
    Dependency,
    InformationSystem,
    SystemCapabilityLink,
    SystemDataDomainLink,
    SystemUserAgencyLink,
    UsageReport,
)
from registry.services.codes import CODE_PREFIX  # noqa: E402
from registry.services.systems import search_text_of
from registry.text import clean_line, clean_text, fold

# --------------------------------------------------------------------------------------------
# Vocabulary. Real agency and province names (after the 2025 reorganisation: 34 provinces,
# about 3,300 communes); commune names are made of common Vietnamese place-name syllables.
# --------------------------------------------------------------------------------------------

# (code, name, English name, block, parent code)
CENTRAL_AGENCIES: tuple[tuple[str, str, str, str, str | None], ...] = (
    ("VPTW", "Văn phòng Trung ương Đảng", "Office of the Party Central Committee", "party", None),
    (
        "VPTW-CDS",
        "Cục Chuyển đổi số và Cơ yếu, Văn phòng Trung ương Đảng",
        "Digital Transformation and Cipher Department",
        "party",
        "VPTW",
    ),
    ("VPTW-TTDL", "Trung tâm Dữ liệu, Văn phòng Trung ương Đảng", "Party Data Centre", "party", "VPTW"),
    ("BTCTW", "Ban Tổ chức Trung ương", "Central Organisation Commission", "party", None),
    ("UBKTTW", "Ủy ban Kiểm tra Trung ương", "Central Inspection Commission", "party", None),
    (
        "BTGDVTW",
        "Ban Tuyên giáo và Dân vận Trung ương",
        "Central Propaganda and Mass Mobilisation Commission",
        "party",
        None,
    ),
    ("BNCTW", "Ban Nội chính Trung ương", "Central Internal Affairs Commission", "party", None),
    (
        "BCSCLTW",
        "Ban Chính sách, chiến lược Trung ương",
        "Central Policy and Strategy Commission",
        "party",
        None,
    ),
    (
        "DUCQDTW",
        "Đảng ủy các cơ quan Đảng Trung ương",
        "Party Committee of Central Party Agencies",
        "party",
        None,
    ),
    ("DUCP", "Đảng ủy Chính phủ", "Government Party Committee", "party", None),
    ("DUQH", "Đảng ủy Quốc hội", "National Assembly Party Committee", "party", None),
    (
        "DUMTTQ",
        "Đảng ủy Mặt trận Tổ quốc, các đoàn thể Trung ương",
        "Party Committee of the Fatherland Front and Central Mass Organisations",
        "party",
        None,
    ),
    (
        "HVCTQG",
        "Học viện Chính trị quốc gia Hồ Chí Minh",
        "Ho Chi Minh National Academy of Politics",
        "party",
        None,
    ),
    ("BAONHANDAN", "Báo Nhân Dân", "Nhan Dan Newspaper", "party", None),
    ("TCCS", "Tạp chí Cộng sản", "Communist Review", "party", None),
    ("VPCP", "Văn phòng Chính phủ", "Government Office", "state", None),
    ("VPQH", "Văn phòng Quốc hội", "Office of the National Assembly", "state", None),
    ("VPCTN", "Văn phòng Chủ tịch nước", "Office of the President", "state", None),
    ("BCA", "Bộ Công an", "Ministry of Public Security", "state", None),
    (
        "BCA-C06",
        "Cục Cảnh sát quản lý hành chính về trật tự xã hội",
        "Police Department for Administrative Management of Social Order",
        "state",
        "BCA",
    ),
    ("BCA-TTDLQG", "Trung tâm Dữ liệu quốc gia", "National Data Centre", "state", "BCA"),
    ("BQP", "Bộ Quốc phòng", "Ministry of National Defence", "state", None),
    ("BNG", "Bộ Ngoại giao", "Ministry of Foreign Affairs", "state", None),
    ("BNV", "Bộ Nội vụ", "Ministry of Home Affairs", "state", None),
    ("BTP", "Bộ Tư pháp", "Ministry of Justice", "state", None),
    ("BTC", "Bộ Tài chính", "Ministry of Finance", "state", None),
    ("BCT", "Bộ Công Thương", "Ministry of Industry and Trade", "state", None),
    ("BNNMT", "Bộ Nông nghiệp và Môi trường", "Ministry of Agriculture and Environment", "state", None),
    ("BXD", "Bộ Xây dựng", "Ministry of Construction", "state", None),
    ("BVHTTDL", "Bộ Văn hóa, Thể thao và Du lịch", "Ministry of Culture, Sports and Tourism", "state", None),
    ("BKHCN", "Bộ Khoa học và Công nghệ", "Ministry of Science and Technology", "state", None),
    ("BGDDT", "Bộ Giáo dục và Đào tạo", "Ministry of Education and Training", "state", None),
    ("BYT", "Bộ Y tế", "Ministry of Health", "state", None),
    ("BDTTG", "Bộ Dân tộc và Tôn giáo", "Ministry of Ethnic and Religious Affairs", "state", None),
    ("NHNN", "Ngân hàng Nhà nước Việt Nam", "State Bank of Vietnam", "state", None),
    ("TTCP", "Thanh tra Chính phủ", "Government Inspectorate", "state", None),
    ("TANDTC", "Tòa án nhân dân tối cao", "Supreme People's Court", "state", None),
    ("VKSNDTC", "Viện kiểm sát nhân dân tối cao", "Supreme People's Procuracy", "state", None),
    ("KTNN", "Kiểm toán nhà nước", "State Audit Office", "state", None),
    (
        "UBTWMTTQ",
        "Ủy ban Trung ương Mặt trận Tổ quốc Việt Nam",
        "Central Committee of the Vietnam Fatherland Front",
        "front",
        None,
    ),
    (
        "TLDLD",
        "Tổng Liên đoàn Lao động Việt Nam",
        "Vietnam General Confederation of Labour",
        "front",
        "UBTWMTTQ",
    ),
    (
        "TWDOAN",
        "Trung ương Đoàn Thanh niên Cộng sản Hồ Chí Minh",
        "Ho Chi Minh Communist Youth Union",
        "front",
        "UBTWMTTQ",
    ),
    ("TWHLHPN", "Trung ương Hội Liên hiệp Phụ nữ Việt Nam", "Vietnam Women's Union", "front", "UBTWMTTQ"),
    ("TWHND", "Trung ương Hội Nông dân Việt Nam", "Vietnam Farmers' Union", "front", "UBTWMTTQ"),
    (
        "TWHCCB",
        "Trung ương Hội Cựu chiến binh Việt Nam",
        "Vietnam Veterans' Association",
        "front",
        "UBTWMTTQ",
    ),
)

# (code, name, centrally-run city, communes after the 2025 reorganisation, special zones)
PROVINCES: tuple[tuple[str, str, bool, int, tuple[str, ...]], ...] = (
    ("HNI", "Hà Nội", True, 126, ()),
    ("HUE", "Huế", True, 40, ()),
    ("LCU", "Lai Châu", False, 38, ()),
    ("DBN", "Điện Biên", False, 45, ()),
    ("SLA", "Sơn La", False, 75, ()),
    ("LSN", "Lạng Sơn", False, 65, ()),
    ("QNH", "Quảng Ninh", False, 54, ("Vân Đồn", "Cô Tô")),
    ("THA", "Thanh Hóa", False, 166, ()),
    ("NAN", "Nghệ An", False, 130, ()),
    ("HTH", "Hà Tĩnh", False, 69, ()),
    ("CBG", "Cao Bằng", False, 56, ()),
    ("TQG", "Tuyên Quang", False, 124, ()),
    ("LCI", "Lào Cai", False, 99, ()),
    ("TNN", "Thái Nguyên", False, 92, ()),
    ("PTO", "Phú Thọ", False, 148, ()),
    ("BNH", "Bắc Ninh", False, 99, ()),
    ("HYN", "Hưng Yên", False, 104, ()),
    ("HPG", "Hải Phòng", True, 114, ("Cát Hải", "Bạch Long Vĩ")),
    ("NBH", "Ninh Bình", False, 129, ()),
    ("QTI", "Quảng Trị", False, 78, ("Cồn Cỏ",)),
    ("DNG", "Đà Nẵng", True, 94, ("Hoàng Sa",)),
    ("QNI", "Quảng Ngãi", False, 96, ("Lý Sơn",)),
    ("GLI", "Gia Lai", False, 135, ()),
    ("KHA", "Khánh Hòa", False, 65, ("Trường Sa",)),
    ("LDG", "Lâm Đồng", False, 124, ("Phú Quý",)),
    ("DLK", "Đắk Lắk", False, 102, ()),
    ("HCM", "Hồ Chí Minh", True, 168, ("Côn Đảo",)),
    ("DNI", "Đồng Nai", False, 95, ()),
    ("TNH", "Tây Ninh", False, 96, ()),
    ("CTO", "Cần Thơ", True, 103, ()),
    ("VLG", "Vĩnh Long", False, 124, ()),
    ("DTP", "Đồng Tháp", False, 102, ()),
    ("CMU", "Cà Mau", False, 64, ()),
    ("AGG", "An Giang", False, 102, ("Phú Quốc", "Thổ Châu", "Kiên Hải")),
)

PLACE_FIRST = (
    "Tân",
    "Bình",
    "Hưng",
    "Phú",
    "An",
    "Thạnh",
    "Long",
    "Hòa",
    "Vĩnh",
    "Xuân",
    "Đông",
    "Tây",
    "Nam",
    "Bắc",
    "Quang",
    "Minh",
    "Thành",
    "Phước",
    "Đức",
    "Trung",
    "Hồng",
    "Kim",
    "Thanh",
    "Hải",
    "Sơn",
    "Lộc",
    "Mỹ",
    "Cẩm",
    "Yên",
    "Diễn",
    "Nghĩa",
    "Hương",
    "Cát",
    "Lạc",
    "Thái",
    "Đại",
    "Tiên",
    "Ngọc",
    "Châu",
    "Gia",
    "Quế",
    "Thiệu",
    "Nghi",
    "Triệu",
    "Hoằng",
)
PLACE_SECOND = (
    "Nguyên",
    "Phú",
    "An",
    "Lợi",
    "Hòa",
    "Thịnh",
    "Lộc",
    "Thuận",
    "Bình",
    "Sơn",
    "Hà",
    "Lâm",
    "Xuân",
    "Thành",
    "Điền",
    "Khánh",
    "Trường",
    "Phong",
    "Tiến",
    "Hưng",
    "Mỹ",
    "Quý",
    "Đông",
    "Tây",
    "Hải",
    "Giang",
    "Linh",
    "Yên",
    "Châu",
    "Trạch",
    "Cường",
    "Kiệt",
    "Lương",
    "Hội",
    "Tường",
)

SEED_DATA = Path(__file__).resolve().parent.parent / "seed" / "data"
"""The taxonomies are the demo portfolio's own files: codes cannot drift between the two."""

CAPABILITIES: tuple[str, ...] = (
    "document_management",
    "e_signature",
    "identity_authentication",
    "party_member_records",
    "hr_records",
    "one_stop_shop",
    "public_service_portal",
    "citizen_feedback",
    "videoconference",
    "paperless_meeting",
    "email",
    "intranet_portal",
    "reporting_dashboard",
    "finance_accounting",
    "asset_management",
    "emulation_awards",
    "inspection_discipline",
    "complaints_denunciations",
    "digital_archive",
    "case_files",
    "gis",
    "security_monitoring",
    "data_integration",
    "e_learning",
    "propaganda_news",
    "project_management",
    "ioc",
    "data_warehouse",
    "helpdesk",
    "online_payment",
)
"""The capabilities products draw from, in the order the random draws depend on."""

DATA_DOMAINS: tuple[str, ...] = (
    "party_members",
    "cadres",
    "documents",
    "population",
    "enterprises",
    "land_gis",
    "finance_budget",
    "infrastructure_assets",
    "civil_status",
    "health",
    "education",
    "labour",
    "complaints",
    "public_investment",
    "geospatial",
)
"""The data domains products draw from, likewise."""


def taxonomy(kind: str, codes: Sequence[str]) -> list[dict[str, Any]]:
    """Rows for ``codes`` of ``seed/data/<kind>.yaml``, numbered in that order; an unknown
    code is an error, since the demo portfolio and the benchmark must speak the same vocabulary."""
    entries = {e["code"]: e for e in yaml.safe_load((SEED_DATA / f"{kind}.yaml").read_text("utf-8"))[kind]}
    missing = [code for code in codes if code not in entries]
    if missing:
        raise SystemExit(f"seed/data/{kind}.yaml lacks {', '.join(missing)}")
    return [
        {
            "id": i,
            "code": code,
            "name": entries[code]["name"],
            "name_en": entries[code].get("name_en"),
            "description": entries[code].get("description"),
        }
        for i, code in enumerate(codes, start=1)
    ]


@dataclass(frozen=True)
class Product:
    """A kind of system: its name, what it is for, and the capabilities and data it implies."""

    name: str
    task: str
    capabilities: tuple[str, ...]
    domains: tuple[str, ...]
    levels: tuple[str, ...] = ("central", "province", "commune")


PRODUCTS: tuple[Product, ...] = (
    Product(
        "Hệ thống quản lý văn bản và điều hành",
        "tiếp nhận, xử lý, luân chuyển văn bản điện tử",
        ("document_management", "e_signature"),
        ("documents",),
    ),
    Product(
        "Phần mềm quản lý đảng viên",
        "cập nhật hồ sơ, biến động và sinh hoạt của đảng viên",
        ("party_member_records", "reporting_dashboard"),
        ("party_members",),
    ),
    Product(
        "Cổng thông tin điện tử",
        "công khai thông tin, tuyên truyền chủ trương, chính sách",
        ("intranet_portal", "propaganda_news"),
        (),
    ),
    Product(
        "Ứng dụng phản ánh hiện trường",
        "tiếp nhận và xử lý phản ánh của người dân về hiện trường",
        ("citizen_feedback", "gis"),
        ("population", "geospatial"),
        ("province", "commune"),
    ),
    Product(
        "Hệ thống thông tin giải quyết thủ tục hành chính",
        "tiếp nhận, giải quyết và trả kết quả thủ tục hành chính",
        ("one_stop_shop", "public_service_portal"),
        ("population", "enterprises"),
    ),
    Product(
        "Phần mềm một cửa điện tử",
        "tiếp nhận hồ sơ và theo dõi tiến độ giải quyết",
        ("one_stop_shop",),
        ("population",),
        ("province", "commune"),
    ),
    Product(
        "Hệ thống hội nghị truyền hình trực tuyến",
        "tổ chức hội nghị, cuộc họp trực tuyến nhiều điểm cầu",
        ("videoconference",),
        (),
    ),
    Product(
        "Hệ thống phòng họp không giấy",
        "chuẩn bị tài liệu và điều hành cuộc họp không dùng giấy",
        ("paperless_meeting", "document_management"),
        ("documents",),
    ),
    Product(
        "Hệ thống thư điện tử công vụ",
        "trao đổi thư điện tử giữa cán bộ, công chức",
        ("email",),
        (),
        ("central", "province"),
    ),
    Product(
        "Phần mềm quản lý cán bộ, công chức, viên chức",
        "quản lý hồ sơ, quá trình công tác, đào tạo",
        ("hr_records", "reporting_dashboard"),
        ("cadres",),
    ),
    Product(
        "Phần mềm kế toán hành chính sự nghiệp",
        "hạch toán, lập báo cáo tài chính của đơn vị",
        ("finance_accounting",),
        ("finance_budget",),
    ),
    Product(
        "Phần mềm quản lý tài sản công",
        "theo dõi, kiểm kê và báo cáo tài sản công",
        ("asset_management", "reporting_dashboard"),
        ("infrastructure_assets",),
    ),
    Product(
        "Phần mềm thi đua, khen thưởng",
        "đề nghị, xét duyệt và lưu hồ sơ khen thưởng",
        ("emulation_awards",),
        ("cadres",),
    ),
    Product(
        "Hệ thống quản lý công tác kiểm tra, giám sát của Đảng",
        "lập kế hoạch, theo dõi và tổng hợp kết quả kiểm tra, giám sát",
        ("inspection_discipline", "reporting_dashboard"),
        ("party_members",),
    ),
    Product(
        "Phần mềm tiếp công dân và xử lý đơn thư",
        "tiếp công dân, phân loại và theo dõi xử lý đơn thư",
        ("complaints_denunciations", "case_files"),
        ("complaints", "population"),
    ),
    Product(
        "Hệ thống lưu trữ hồ sơ điện tử",
        "nộp lưu, bảo quản và khai thác hồ sơ lưu trữ",
        ("digital_archive",),
        ("documents",),
        ("central", "province"),
    ),
    Product(
        "Phần mềm quản lý hồ sơ công việc",
        "lập hồ sơ và theo dõi việc giải quyết công việc",
        ("case_files", "document_management"),
        ("documents",),
    ),
    Product(
        "Cơ sở dữ liệu đất đai",
        "quản lý hồ sơ địa chính và biến động đất đai",
        ("gis", "data_integration"),
        ("land_gis", "geospatial"),
        ("central", "province"),
    ),
    Product(
        "Hệ thống giám sát an toàn thông tin mạng (SOC)",
        "giám sát, phát hiện và ứng cứu sự cố an toàn thông tin",
        ("security_monitoring",),
        (),
        ("central", "province"),
    ),
    Product(
        "Trục liên thông văn bản",
        "gửi, nhận văn bản điện tử giữa các cơ quan",
        ("data_integration", "document_management"),
        ("documents",),
        ("central", "province"),
    ),
    Product(
        "Nền tảng tích hợp, chia sẻ dữ liệu (LGSP)",
        "kết nối, chia sẻ dữ liệu giữa các hệ thống",
        ("data_integration",),
        (),
        ("central", "province"),
    ),
    Product(
        "Hệ thống học tập, quán triệt nghị quyết trực tuyến",
        "học tập, quán triệt và thu hoạch nghị quyết",
        ("e_learning", "propaganda_news"),
        ("party_members",),
    ),
    Product(
        "Sổ tay đảng viên điện tử",
        "cung cấp tài liệu sinh hoạt chi bộ và thông tin cho đảng viên",
        ("party_member_records", "propaganda_news"),
        ("party_members",),
    ),
    Product(
        "Hệ thống quản lý đầu tư công",
        "theo dõi kế hoạch, giải ngân và tiến độ dự án đầu tư công",
        ("project_management", "reporting_dashboard"),
        ("public_investment", "finance_budget"),
        ("central", "province"),
    ),
    Product(
        "Trung tâm giám sát, điều hành đô thị thông minh (IOC)",
        "giám sát, điều hành tập trung các lĩnh vực",
        ("ioc", "gis", "data_warehouse"),
        ("geospatial", "population"),
        ("province",),
    ),
    Product(
        "Hệ thống báo cáo kinh tế - xã hội",
        "tổng hợp chỉ tiêu và báo cáo tình hình kinh tế - xã hội",
        ("reporting_dashboard", "data_warehouse"),
        ("finance_budget",),
    ),
    Product(
        "Phần mềm quản lý hộ tịch",
        "đăng ký, quản lý và cấp trích lục hộ tịch",
        ("public_service_portal",),
        ("civil_status", "population"),
        ("province", "commune"),
    ),
    Product(
        "Hệ thống hồ sơ sức khỏe điện tử",
        "quản lý hồ sơ sức khỏe người dân",
        ("public_service_portal", "data_integration"),
        ("health", "population"),
        ("central", "province"),
    ),
    Product(
        "Phần mềm quản lý trường học",
        "quản lý học sinh, giáo viên và kết quả học tập",
        ("e_learning", "reporting_dashboard"),
        ("education",),
        ("province", "commune"),
    ),
    Product(
        "Tổng đài hỗ trợ dịch vụ công 1022",
        "hỗ trợ, giải đáp và tiếp nhận yêu cầu của người dân",
        ("helpdesk", "citizen_feedback"),
        ("population",),
        ("province",),
    ),
    Product(
        "Cổng thanh toán trực tuyến",
        "thu phí, lệ phí và nghĩa vụ tài chính trực tuyến",
        ("online_payment", "public_service_portal"),
        ("finance_budget",),
        ("central", "province"),
    ),
    Product(
        "Kho dữ liệu dùng chung",
        "lưu trữ, phân tích và cung cấp dữ liệu dùng chung",
        ("data_warehouse", "data_integration"),
        ("population", "enterprises"),
        ("central", "province"),
    ),
    Product(
        "Hệ thống xác thực tập trung (SSO)",
        "đăng nhập một lần và định danh người dùng",
        ("identity_authentication",),
        ("cadres",),
        ("central", "province"),
    ),
    Product(
        "Hệ thống chữ ký số chuyên dùng",
        "cấp, quản lý chứng thư số và ký số văn bản",
        ("e_signature", "identity_authentication"),
        (),
        ("central",),
    ),
    Product(
        "Bản đồ số dùng chung",
        "cung cấp lớp bản đồ nền và dữ liệu không gian",
        ("gis",),
        ("geospatial",),
        ("central", "province"),
    ),
    Product(
        "Phần mềm quản lý lao động, việc làm",
        "theo dõi cung, cầu lao động và giải quyết việc làm",
        ("reporting_dashboard",),
        ("labour",),
        ("province", "commune"),
    ),
    Product(
        "Ứng dụng công dân số",
        "cung cấp tiện ích số cho người dân trên thiết bị di động",
        ("public_service_portal", "citizen_feedback", "online_payment"),
        ("population",),
        ("province",),
    ),
    Product(
        "Phần mềm quản lý văn kiện, tài liệu đại hội",
        "chuẩn bị, góp ý và phát hành văn kiện đại hội",
        ("document_management", "paperless_meeting"),
        ("documents", "party_members"),
    ),
)

AUDIENCES = (
    "cán bộ, công chức",
    "đảng viên",
    "người dân và doanh nghiệp",
    "lãnh đạo các cấp",
    "các ban xây dựng Đảng",
    "bộ phận một cửa",
    "chi bộ cơ sở",
    "văn thư, lưu trữ",
)
FEATURES = (
    "tra cứu nhanh theo nhiều tiêu chí",
    "ký số trên thiết bị di động",
    "thông báo, nhắc việc tự động",
    "phân quyền theo đơn vị",
    "xuất báo cáo định kỳ",
    "theo dõi tiến độ xử lý",
    "lưu vết thao tác",
    "đồng bộ danh mục dùng chung",
    "tích hợp tài khoản định danh VNeID",
    "hiển thị trên bản đồ số",
    "tổng hợp số liệu theo thời gian thực",
    "nhập liệu từ biểu mẫu điện tử",
)
INTEGRATIONS = (
    "Cơ sở dữ liệu quốc gia về dân cư",
    "Trục liên thông văn bản quốc gia",
    "Cổng Dịch vụ công quốc gia",
    "Nền tảng tích hợp, chia sẻ dữ liệu của tỉnh",
    "hệ thống xác thực tập trung",
    "Cơ sở dữ liệu đảng viên",
    "Hệ thống thông tin báo cáo quốc gia",
    "Trung tâm Dữ liệu quốc gia",
)
FUNDING = (
    "Ngân sách trung ương",
    "Ngân sách địa phương",
    "Nguồn kinh phí sự nghiệp",
    "Vốn đầu tư công",
    "Thuê dịch vụ công nghệ thông tin",
)
LEGAL_BASES = (
    "Nghị quyết số 57-NQ/TW về đột phá phát triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số",
    "Quyết định số 06/QĐ-TTg về phát triển ứng dụng dữ liệu dân cư, định danh và xác thực điện tử",
    "Nghị định số 47/2020/NĐ-CP về quản lý, kết nối và chia sẻ dữ liệu số",
    "Luật Giao dịch điện tử năm 2023",
    "Kế hoạch chuyển đổi số của cơ quan giai đoạn 2021-2025",
)

STATUSES = (
    ("in_operation", 70),
    ("retired", 8),
    ("draft", 6),
    ("submitted", 4),
    ("in_review", 3),
    ("changes_requested", 2),
    ("approved", 5),
    ("rejected", 2),
)
HOSTINGS = ("party_dc", "national_dc", "provincial_dc", "own_server_room", "cloud")
KINDS_TO_PLATFORM = ("authentication", "hosted_on", "consumes_api", "data_exchange")
KINDS_OTHER = ("data_exchange", "consumes_api", "data_exchange", "replaces")

START = datetime(2016, 1, 1, tzinfo=UTC)
END = datetime(2026, 6, 30, tzinfo=UTC)


@dataclass
class AgencyRow:
    id: int
    code: str
    name: str
    name_en: str | None
    level: str
    block: str
    parent_id: int | None
    province: int | None  # index in PROVINCES, None for central agencies
    place: str  # "xã Hưng Nguyên", "tỉnh Nghệ An", or the central agency's name

    def as_row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "code": self.code,
            "name": self.name,
            "name_en": self.name_en,
            "level": self.level,
            "block": self.block,
            "parent_id": self.parent_id,
        }


@dataclass
class Portfolio:
    """Every row to insert, per table, in an order that satisfies the foreign keys."""

    agencies: list[AgencyRow]
    capabilities: list[dict[str, Any]]
    data_domains: list[dict[str, Any]]
    systems: list[dict[str, Any]]
    capability_links: list[dict[str, Any]]
    domain_links: list[dict[str, Any]]
    user_links: list[dict[str, Any]]
    dependencies: list[dict[str, Any]]
    usage_reports: list[dict[str, Any]]


# --------------------------------------------------------------------------------------------
# Generation (pure Python, deterministic for a seed)
# --------------------------------------------------------------------------------------------


def build_agencies(rng: random.Random) -> list[AgencyRow]:
    """Central agencies, then each province's committee with its children and communes."""
    rows: list[AgencyRow] = []
    by_code: dict[str, int] = {}

    def add(
        code: str,
        name: str,
        name_en: str | None,
        level: str,
        block: str,
        parent: int | None,
        province: int | None,
        place: str,
    ) -> AgencyRow:
        row = AgencyRow(len(rows) + 1, code, name, name_en, level, block, parent, province, place)
        rows.append(row)
        by_code[code] = row.id
        return row

    for code, name, name_en, block, parent in CENTRAL_AGENCIES:
        add(code, name, name_en, "central", block, by_code[parent] if parent else None, None, name)

    for index, (pcode, pname, city, communes, zones) in enumerate(PROVINCES):
        kind = "thành phố" if city else "tỉnh"
        place = f"{kind} {pname}" if pname != "Hồ Chí Minh" else "Thành phố Hồ Chí Minh"
        committee = "Thành ủy" if city else "Tỉnh ủy"
        root = add(f"TU-{pcode}", f"{committee} {pname}", None, "province", "locality", None, index, place)
        children = [
            (f"VPTU-{pcode}", f"Văn phòng {committee} {pname}", "party"),
            (f"UBND-{pcode}", f"Ủy ban nhân dân {place}", "state"),
            (f"MTTQ-{pcode}", f"Ủy ban Mặt trận Tổ quốc Việt Nam {place}", "front"),
        ]
        if rng.random() < 0.6:
            children.append((f"BTCTU-{pcode}", f"Ban Tổ chức {committee} {pname}", "party"))
        for code, name, block in children:
            add(code, name, None, "province", block, root.id, index, place)

        names = [(f, s) for f in PLACE_FIRST for s in PLACE_SECOND if f != s]
        picked = rng.sample(names, communes - len(zones))
        ward_share = 0.45 if city else 0.12
        places = [("đặc khu", zone) for zone in zones]
        places += [("phường" if rng.random() < ward_share else "xã", f"{f} {s}") for f, s in picked]
        for number, (unit, cname) in enumerate(places, start=1):
            add(
                f"DU-{pcode}-{number:04d}",
                f"Đảng ủy {unit} {cname}",
                None,
                "commune",
                "locality",
                root.id,
                index,
                f"{unit} {cname}",
            )
    return rows


def weighted_statuses(rng: random.Random, n: int) -> list[str]:
    """Statuses in realistic proportions: an inventory is mostly systems already running."""
    values = [s for s, _ in STATUSES]
    weights = [w for _, w in STATUSES]
    return rng.choices(values, weights=weights, k=n)


def zipf_cumulative(n: int, exponent: float = 1.0) -> list[float]:
    """Cumulative weights 1/rank^s: a few platforms (VNeID, the Party's document system) dominate."""
    total = 0.0
    cumulative = []
    for rank in range(1, n + 1):
        total += 1.0 / rank**exponent
        cumulative.append(total)
    return cumulative


def pick_zipf(rng: random.Random, cumulative: Sequence[float], upto: int) -> int:
    """An index below ``upto`` drawn with the Zipf weights."""
    return min(bisect.bisect_left(cumulative, rng.random() * cumulative[upto - 1]), upto - 1)


def system_text(rng: random.Random, name: str, product: Product) -> tuple[str, str | None]:
    """A description of one to three sentences and, for most systems, a purpose."""
    sentences = [f"{name} phục vụ {rng.choice(AUDIENCES)} trong việc {product.task}."]
    if rng.random() < 0.8:
        a, b, c = rng.sample(FEATURES, 3)
        sentences.append(f"Hệ thống cho phép {a}, {b} và {c}.")
    if rng.random() < 0.5:
        sentences.append(f"Dữ liệu được kết nối với {rng.choice(INTEGRATIONS)}.")
    purpose = None
    if rng.random() < 0.6:
        purpose = f"Nâng cao hiệu quả {product.task}; giảm thời gian xử lý và chi phí giấy tờ."
    return " ".join(sentences), purpose


def generate(n_systems: int, seed: int, dependencies_per_system: float | None = None) -> Portfolio:
    """Every row of the portfolio, in memory, from one seeded generator (hence deterministic).

    ``dependencies_per_system`` asks for a denser graph than the default of about 1.5 edges per
    system; left out, the rows are exactly those of earlier runs with the same seed.
    """
    rng = random.Random(seed)
    agencies = build_agencies(rng)
    capabilities = taxonomy("capabilities", CAPABILITIES)
    data_domains = taxonomy("data_domains", DATA_DOMAINS)
    cap_id = {c["code"]: c["id"] for c in capabilities}
    dom_id = {d["code"]: d["id"] for d in data_domains}

    by_level: dict[str, list[AgencyRow]] = {"central": [], "province": [], "commune": []}
    communes_of: dict[int, list[AgencyRow]] = {}
    province_agencies: dict[int, list[AgencyRow]] = {}
    for agency in agencies:
        by_level[agency.level].append(agency)
        if agency.province is not None:
            bucket = communes_of if agency.level == "commune" else province_agencies
            bucket.setdefault(agency.province, []).append(agency)
    central_it = [a for a in by_level["central"] if a.code in ("VPTW-CDS", "VPTW-TTDL", "BCA-TTDLQG")]
    products_by_level = {lvl: [p for p in PRODUCTS if lvl in p.levels] for lvl in by_level}

    # Registration dates in id order, so codes and ids grow together as they do in real life.
    span = (END - START).total_seconds()
    created = sorted(START + timedelta(seconds=rng.random() * span) for _ in range(n_systems))

    # Roles: ~2% shared platforms, mostly registered early; ~30% deployments of an older platform.
    ids = range(1, n_systems + 1)
    n_platforms = max(1, round(n_systems * 0.02))
    platform_ids = sorted(rng.sample(range(1, max(n_platforms, int(n_systems * 0.6)) + 1), n_platforms))
    platform_set = set(platform_ids)
    candidates = [i for i in ids if i > platform_ids[0] and i not in platform_set]
    deployment_ids = set(rng.sample(candidates, min(len(candidates), round(n_systems * 0.30))))
    platform_cum = zipf_cumulative(len(platform_ids))
    statuses = weighted_statuses(rng, n_systems)
    level_weights = {"central": 12, "province": 33, "commune": 55}

    systems: list[dict[str, Any]] = []
    cap_links: list[dict[str, Any]] = []
    dom_links: list[dict[str, Any]] = []
    user_links: list[dict[str, Any]] = []
    product_of: dict[int, Product] = {}
    owner_of: dict[int, AgencyRow] = {}
    year_counter: dict[int, int] = {}

    for system_id in ids:
        platform: dict[str, Any] | None = None
        if system_id in platform_set:
            level = "central" if rng.random() < 0.35 else "province"
            owner = rng.choice(by_level[level])
            product = rng.choice(products_by_level[level])
            if level == "province":
                name = f"{product.name} dùng chung {owner.place}"
            else:
                name = f"{product.name} dùng chung của {owner.name}"
        elif system_id in deployment_ids:
            upto = bisect.bisect_left(platform_ids, system_id)
            platform = systems[platform_ids[pick_zipf(rng, platform_cum, upto)] - 1]
            product = product_of[platform["id"]]
            platform_owner = owner_of[platform["id"]]
            if platform_owner.province is None:
                level = rng.choices(("province", "commune"), weights=(30, 70))[0]
                owner = rng.choice(by_level[level])
            else:
                pool = communes_of[platform_owner.province]
                owner = (
                    rng.choice(pool)
                    if rng.random() < 0.9
                    else rng.choice(province_agencies[platform_owner.province])
                )
                level = owner.level
            name = f"{product.name} triển khai tại {owner.name}"
        else:
            level = rng.choices(list(level_weights), weights=list(level_weights.values()))[0]
            owner = rng.choice(by_level[level])
            product = rng.choice(products_by_level[level])
            style = rng.random()
            if style < 0.45:
                name = (
                    f"{product.name} {owner.place}"
                    if level != "central"
                    else f"{product.name} của {owner.name}"
                )
            elif style < 0.85:
                name = f"{product.name} của {owner.name}"
            else:
                name = f"{product.name} {owner.place} giai đoạn {rng.randint(2, 3)}"
        name = (clean_line(name) or "")[:200]
        description, purpose = system_text(rng, name, product)
        description = clean_text(description) or ""
        purpose = clean_text(purpose)

        when = created[system_id - 1]
        year_counter[when.year] = year_counter.get(when.year, 0) + 1
        code = f"{CODE_PREFIX}-{when.year:04d}-{year_counter[when.year]:06d}"
        status = statuses[system_id - 1]
        in_service = status in ("in_operation", "retired")
        # A proposal under or after review has every governance field, as validation demands;
        # systems recorded as found have the gaps the directives target.
        proposal = status in PROPOSAL_STATUSES

        def declared(share: float, proposal: bool = proposal) -> bool:
            return rng.random() < share or proposal

        operator = None
        if declared(0.65):
            if owner.level == "commune" and owner.province is not None:
                operator = rng.choice(province_agencies[owner.province][1:])
            elif owner.level == "province" and rng.random() < 0.5:
                operator = rng.choice(province_agencies[owner.province or 0])
            elif rng.random() < 0.3:
                operator = rng.choice(central_it)
            else:
                operator = owner
        rules_date = (when + timedelta(days=rng.randint(30, 400))).date() if in_service else None
        has_rules = rules_date is not None and rng.random() < 0.4 and rules_date < date(2026, 7, 1)
        cost = rng.choice((None, rng.randint(1, 500) * 10_000_000, rng.randint(1, 200) * 1_000_000_000))
        target = rng.choice((None, rng.randint(10, 5000), rng.randint(1000, 2_000_000)))
        if target is None and proposal:
            target = rng.randint(10, 5000)
        systems.append(
            {
                "id": system_id,
                "code": code,
                "external_id": None,
                "name": name,
                "description": description,
                "purpose": purpose,
                "status": status,
                "scope_level": owner.level,
                "is_shared_platform": system_id in platform_set,
                "instance_of_id": platform["id"] if platform else None,
                "owner_agency_id": owner.id,
                "operator_agency_id": operator.id if operator else None,
                "legal_basis": rng.choice(LEGAL_BASES) if declared(0.55) else None,
                "mandate": f"Phục vụ nhiệm vụ {product.task} của {owner.name}" if declared(0.5) else None,
                "operating_rules_ref": f"Quy chế số {rng.randint(1, 999)}-QC/{owner.code}"
                if has_rules
                else None,
                "operating_rules_date": rules_date if has_rules else None,
                "usage_orientation": "Sử dụng thống nhất trong toàn đơn vị" if declared(0.4) else None,
                "hosting": rng.choice(HOSTINGS) if rng.random() < 0.8 else None,
                "security_level": rng.randint(1, 4) if declared(0.7) else None,
                "estimated_cost_vnd": cost,
                "funding_source": rng.choice(FUNDING) if cost else None,
                "target_users": target,
                "active_users": int(target * rng.uniform(0.05, 0.9)) if target and in_service else None,
                "overlap_justification": None,
                "search_text": search_text_of(code, name, description, purpose),
                "name_key": fold(name)[:200],
                "version": 1,
                "created_at": when,
                "updated_at": min(
                    END, when + timedelta(days=rng.randint(0, 900), seconds=rng.randint(0, 86399))
                ),
            }
        )
        product_of[system_id] = product
        owner_of[system_id] = owner

        # 1–4 capabilities: the product's own, then a few more.
        wanted = rng.choice((1, 1, 2, 2, 3, 4))
        caps = list(product.capabilities)[:wanted]
        while len(caps) < wanted:
            extra = rng.choice(CAPABILITIES)
            if extra not in caps:
                caps.append(extra)
        cap_links.extend({"system_id": system_id, "capability_id": cap_id[c]} for c in caps)
        domains = list(product.domains)[: rng.randint(0, 3)]
        if rng.random() < 0.2 and len(domains) < 3:
            extra = rng.choice(DATA_DOMAINS)
            if extra not in domains:
                domains.append(extra)
        dom_links.extend({"system_id": system_id, "data_domain_id": dom_id[d]} for d in domains)
        users: set[int] = set()
        n_users = rng.choices((0, 1, 2, 3), weights=(35, 30, 20, 15))[0]
        for _ in range(max(n_users, 1 if proposal else 0)):
            if owner.province is not None:
                pool = (
                    communes_of[owner.province] if rng.random() < 0.7 else province_agencies[owner.province]
                )
            else:
                pool = by_level["province"] if rng.random() < 0.6 else by_level["central"]
            users.add(rng.choice(pool).id)
        user_links.extend({"system_id": system_id, "agency_id": a} for a in sorted(users))

    dependencies = build_dependencies(rng, n_systems, platform_ids, platform_cum, dependencies_per_system)
    usage_reports = build_usage_reports(rng, systems)
    return Portfolio(
        agencies,
        capabilities,
        data_domains,
        systems,
        cap_links,
        dom_links,
        user_links,
        dependencies,
        usage_reports,
    )


DRAWS, DRAW_WEIGHTS = (0, 1, 2, 3, 4), (25, 25, 25, 15, 10)
MEAN_DRAWS = sum(d * w for d, w in zip(DRAWS, DRAW_WEIGHTS, strict=True)) / sum(DRAW_WEIGHTS)


def build_dependencies(
    rng: random.Random,
    n_systems: int,
    platform_ids: list[int],
    platform_cum: list[float],
    per_system: float | None = None,
) -> list[dict[str, Any]]:
    """About 1.5 edges per system (or ``per_system``); half point at shared platforms, the big
    ones attracting most."""
    edges: set[tuple[int, int, str]] = set()
    rows: list[dict[str, Any]] = []
    scale = None if per_system is None else per_system / MEAN_DRAWS
    for source in range(1, n_systems + 1):
        draws = rng.choices(DRAWS, weights=DRAW_WEIGHTS)[0]
        if scale is not None:
            draws = int(draws * scale + rng.random())
        for _ in range(draws):
            if rng.random() < 0.5:
                target = platform_ids[pick_zipf(rng, platform_cum, len(platform_ids))]
                kind = rng.choice(KINDS_TO_PLATFORM)
            else:
                target = rng.randint(1, n_systems)
                kind = rng.choice(KINDS_OTHER)
            if target == source or (source, target, kind) in edges:
                continue
            edges.add((source, target, kind))
            rows.append(
                {"id": len(rows) + 1, "source_id": source, "target_id": target, "kind": kind, "note": None}
            )
    return rows


def build_usage_reports(rng: random.Random, systems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Quarterly reports for about one system in eight that is in operation."""
    rows: list[dict[str, Any]] = []
    quarters = [
        (date(y, m, 1), date(y, m + 2, 30 if m + 2 in (6, 9) else 31))
        for y in (2024, 2025)
        for m in (1, 4, 7, 10)
    ]
    for system in systems:
        if system["status"] != "in_operation" or rng.random() >= 0.125:
            continue
        base = system["target_users"] or rng.randint(10, 1000)
        for start, end in quarters[-rng.randint(1, 4) :]:
            rows.append(
                {
                    "id": len(rows) + 1,
                    "system_id": system["id"],
                    "period_start": start,
                    "period_end": end,
                    "active_users": int(base * rng.uniform(0.1, 0.9)),
                    "transactions": rng.randint(0, 500_000),
                    "cost_vnd": rng.choice((None, rng.randint(1, 300) * 1_000_000)),
                    "note": None,
                }
            )
    return rows


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def batched(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    """Bounded executemany batches keep memory flat and let PostgreSQL pipeline each one."""
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def drop_everything(engine: Engine) -> None:
    """Empty the database: the whole ``public`` schema on PostgreSQL, every table on SQLite."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
            return
        metadata = MetaData()
        metadata.reflect(conn)
        conn.execute(text("PRAGMA defer_foreign_keys=ON"))
        metadata.drop_all(conn)
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("VACUUM")


def insert(conn: Connection, table: Table, rows: list[dict[str, Any]], batch_size: int) -> None:
    """Core executemany: no ORM objects, no per-row events, ids given explicitly."""
    for batch in batched(rows, batch_size):
        conn.execute(table.insert(), batch)


@contextmanager
def sqlite_triggers_suspended(conn: Connection, tables: list[str]) -> Iterator[None]:
    """On SQLite, drop the triggers of ``tables`` for the load, then restore them as they were.

    The migrations keep the FTS5 search index in step with triggers, which cost a trigram
    tokenisation per inserted row (three times slower in all). Dropping them, loading, and
    rebuilding each external-content FTS5 table once gives the same index and schema, faster.
    Nothing is done on other backends.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    marks = ", ".join(f"'{t}'" for t in tables)
    triggers = conn.exec_driver_sql(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({marks})"
    ).all()
    fts_tables = [
        name
        for name, sql in conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        if sql and "using fts5" in sql.lower() and any(f"content='{t}'" in sql for t in tables)
    ]
    for name, _sql in triggers:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    yield
    for name in fts_tables:
        conn.exec_driver_sql(f'INSERT INTO "{name}"("{name}") VALUES (\'rebuild\')')
    for _name, sql in triggers:
        conn.exec_driver_sql(sql)


def load(engine: Engine, portfolio: Portfolio, batch_size: int) -> None:
    """Insert everything in one transaction, parents before children."""
    plan: list[tuple[Any, list[dict[str, Any]]]] = [
        (Agency, [a.as_row() for a in portfolio.agencies]),
        (Capability, portfolio.capabilities),
        (DataDomain, portfolio.data_domains),
        (InformationSystem, portfolio.systems),
        (SystemCapabilityLink, portfolio.capability_links),
        (SystemDataDomainLink, portfolio.domain_links),
        (SystemUserAgencyLink, portfolio.user_links),
        (Dependency, portfolio.dependencies),
        (UsageReport, portfolio.usage_reports),
    ]
    with engine.begin() as conn:
        with sqlite_triggers_suspended(conn, [m.__table__.name for m, _ in plan]):
            for model, rows in plan:
                insert(conn, model.__table__, rows, batch_size)
        if engine.dialect.name == "postgresql":
            # Ids were given explicitly: move each sequence past them so the app can insert.
            for model in (Agency, Capability, DataDomain, InformationSystem, Dependency, UsageReport):
                name = model.__table__.name
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {name}), false)"
                    )
                )


def analyze(engine: Engine) -> None:
    """Bring the database to the state a live one is in, so plans and timings are representative.

    On PostgreSQL autovacuum would soon do it anyway after a bulk load: ``VACUUM`` sets the
    visibility map (without it ``count(*)`` cannot use an index-only scan) and ``ANALYZE``
    gives the planner statistics. On SQLite ``ANALYZE`` is opt-in (``--analyze yes``): the app
    never runs it, so a real registry database usually has no statistics.
    """
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))


def row_counts(engine: Engine) -> dict[str, int]:
    """Counted back from the database, so the report shows what was stored, not what was meant."""
    models = (
        Agency,
        Capability,
        DataDomain,
        InformationSystem,
        SystemCapabilityLink,
        SystemDataDomainLink,
        SystemUserAgencyLink,
        Dependency,
        UsageReport,
    )
    with engine.connect() as conn:
        return {
            m.__table__.name: conn.scalar(select(func.count()).select_from(m.__table__)) or 0 for m in models
        }


def main(argv: Sequence[str] | None = None) -> int:
    """Refuse a non-empty database unless told to wipe it: benchmarks must never touch real data."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", type=int, required=True, help="number of systems to generate")
    parser.add_argument("--database-url", required=True, help="SQLAlchemy URL of the target database")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--replace", action="store_true", help="drop everything in the database first")
    parser.add_argument("--batch-size", type=int, default=5000, help="rows per executemany (default 5000)")
    parser.add_argument(
        "--analyze",
        choices=("auto", "yes", "no"),
        default="auto",
        help="VACUUM ANALYZE (PostgreSQL) or ANALYZE (SQLite) after loading; auto = PostgreSQL only",
    )
    parser.add_argument(
        "--dependencies-per-system",
        type=float,
        default=None,
        help="draw about this many dependencies per system (default: about 1.5, as always)",
    )
    args = parser.parse_args(argv)
    if args.systems < 1:
        parser.error("--systems must be at least 1")

    url = normalise_database_url(args.database_url)
    engine = make_engine(url)
    started = time.perf_counter()
    existing = inspect(engine).get_table_names()
    if existing and not args.replace:
        print(
            f"The database is not empty ({len(existing)} tables); use --replace to wipe it.", file=sys.stderr
        )
        return 2
    if existing:
        drop_everything(engine)
        engine.dispose()
        engine = make_engine(url)
    migrate.upgrade(engine)
    migrated = time.perf_counter()

    portfolio = generate(args.systems, args.seed, args.dependencies_per_system)
    generated = time.perf_counter()
    load(engine, portfolio, args.batch_size)
    loaded = time.perf_counter()
    if args.analyze == "yes" or (args.analyze == "auto" and engine.dialect.name == "postgresql"):
        analyze(engine)
    finished = time.perf_counter()

    print(f"database: {engine.dialect.name} ({engine.url.render_as_string(hide_password=True)})")
    print(f"seed {args.seed}, {args.systems:,} systems")
    print(f"  schema (alembic upgrade) {migrated - started:7.2f} s")
    print(f"  generate rows (Python)   {generated - migrated:7.2f} s")
    print(f"  bulk insert              {loaded - generated:7.2f} s")
    print(f"  vacuum / analyze         {finished - loaded:7.2f} s")
    print(f"  total                    {finished - started:7.2f} s")
    levels: dict[str, int] = {}
    for agency in portfolio.agencies:
        levels[agency.level] = levels.get(agency.level, 0) + 1
    print("agencies by level: " + ", ".join(f"{k} {v:,}" for k, v in levels.items()))
    shared = sum(1 for s in portfolio.systems if s["is_shared_platform"])
    deployed = sum(1 for s in portfolio.systems if s["instance_of_id"])
    print(f"shared platforms {shared:,}, deployments {deployed:,}")
    for table, count in row_counts(engine).items():
        print(f"  {table:<22} {count:>10,}")
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
