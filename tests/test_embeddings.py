"""Meaning vectors in the registry: stored once per text, embedded on save or in the background,
picked up by every worker, and shown in the reasons and the live panel."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from sqlalchemy import delete, func, select
from sqlmodel import Session

from registry import jobs as job_queue
from registry.choices import JobKind, JobState, JobStep
from registry.db import get_engine
from registry.models import InformationSystem, Job, TextEmbedding
from registry.services import consequences, embeddings
from registry.services.jobs import JobCancelled, Progress
from registry.services.overlaps import PortfolioIndex, describe_reason
from registry.services.similar import SimilarQuery, find_similar
from registry.services.systems import SystemInput, update_system
from registry.services.vectors import VectorTable, decode, encode
from similarity.semantic import piece_key, text_keys
from tests.conftest import OPERATOR
from tests.test_overlaps import documents  # noqa: F401 - fixture


def stored(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(TextEmbedding)) or 0


def test_a_save_stores_the_vector_of_its_text_once(session, make_system):
    system = make_system(name="Phần mềm quản lý tài sản công", description="Theo dõi tài sản, kiểm kê.")
    for key in text_keys(system.name, system.description):  # the name and the description
        row = session.scalar(select(TextEmbedding).where(TextEmbedding.key == key))
        assert row is not None and len(row.vector) == 384  # one signed byte per dimension
        assert np.isclose(np.linalg.norm(decode(row.vector)), 1.0, atol=1e-3)
    count = stored(session)

    data = SystemInput.from_system(system)
    data.purpose = "Only the purpose changes: the embedded text does not."
    update_system(session, system, data, actor=OPERATOR, expected_version=system.version)
    session.commit()
    assert stored(session) == count

    data = SystemInput.from_system(system)
    data.description = "Theo dõi tài sản, khấu hao và kiểm kê hằng năm."
    update_system(session, system, data, actor=OPERATOR, expected_version=system.version)
    session.commit()
    assert stored(session) == count + 1  # the new description; the name's vector is reused
    assert session.scalar(select(TextEmbedding).where(TextEmbedding.key == piece_key(system.name)))


def test_the_background_job_resumes_where_a_kill_stopped_it(app, session, make_system):
    for n in range(5):
        make_system(name=f"Hệ thống số {n} về quản lý hồ sơ", description=f"Mô tả riêng của hệ thống {n}.")
    session.execute(delete(TextEmbedding))
    session.commit()
    engine = get_engine(app)

    stop = threading.Event()
    with Session(engine) as job:
        # Killed after its first batch of two: what it committed stays.
        first = embeddings.embed_pending(job, batch=2, stop=stop, progress=lambda run: stop.set())
    assert (first.done, first.total, first.finished) == (2, 10, False)  # 5 names, 5 descriptions
    assert stored(session) == 2

    with Session(engine) as job:
        second = embeddings.embed_pending(job, batch=2)
    assert (second.done, second.total, second.finished) == (8, 8, True)
    status = embeddings.embedding_status(session)
    assert (status.systems, status.embedded, status.missing) == (5, 5, 0)
    with Session(engine) as job:
        assert embeddings.embed_pending(job).total == 0  # nothing is ever embedded twice


def test_every_worker_picks_up_vectors_stored_elsewhere(app, session, make_system):
    system = make_system(name="Cơ sở dữ liệu đất đai", description="Thửa đất, chủ sử dụng, biến động.")
    keys = text_keys(system.name, system.description)
    vectors = {
        key: session.scalar(select(TextEmbedding.vector).where(TextEmbedding.key == key)) for key in keys
    }
    session.execute(delete(TextEmbedding))
    session.commit()
    index = PortfolioIndex(VectorTable(get_engine(app)))  # another worker: nothing remembered
    finder = index.current(session)
    assert finder.missing_vectors() == 1
    session.add_all(TextEmbedding(key=k, vector=v) for k, v in vectors.items())  # the job, elsewhere
    session.commit()
    assert index.current(session).missing_vectors() == 0


def test_a_worker_reads_only_the_vectors_that_arrived(app, session, make_system, monkeypatch):
    systems = [make_system(name=f"Hệ thống riêng số {n}", description=f"Mô tả riêng {n}.") for n in range(4)]
    kept = dict(session.execute(select(TextEmbedding.key, TextEmbedding.vector)).all())
    session.execute(delete(TextEmbedding))
    session.commit()
    store = VectorTable(get_engine(app))
    index = PortfolioIndex(store)
    assert index.current(session).missing_vectors() == 4
    asked: list[str] = []
    looked_up = store.get_many
    monkeypatch.setattr(store, "get_many", lambda keys: asked.extend(keys) or looked_up(keys))

    whole = text_keys(systems[0].name, systems[0].description)
    name, description = text_keys(systems[1].name, systems[1].description)
    session.add_all(TextEmbedding(key=k, vector=kept[k]) for k in (*whole, name))  # stored elsewhere
    session.commit()
    assert index.current(session).missing_vectors() == 3  # the second still lacks its description
    assert asked == [description]  # only the other half of a row an arrival touched, not all 8 keys
    session.add(TextEmbedding(key=description, vector=kept[description]))
    session.commit()
    assert index.current(session).missing_vectors() == 2
    assert asked == [description]  # the name came again, among the rows a late commit may hide


def test_vectors_round_trip_in_384_bytes():
    rng = np.random.default_rng(1)
    a, b = (v / np.linalg.norm(v) for v in rng.normal(size=(2, 384)).astype(np.float32))
    assert len(encode(a)) == 384
    back_a, back_b = decode(encode(a)), decode(encode(b))
    assert back_a.dtype == np.float32 and float(back_a @ a) > 0.999
    assert abs(float(back_a @ back_b) - float(a @ b)) < 0.001  # cosines survive
    with pytest.raises(ValueError, match="dimensions"):
        decode(b"\x00" * 10)


def test_the_panel_shows_the_platform_first_and_never_misses_the_own_agencys_system(
    session,
    make_agency,
    make_system,
):
    hanoi = make_agency(code="TU-HNI", name="Thành ủy Hà Nội", level="province", block="locality")
    central = make_agency(code="BTCTW", name="Ban Tổ chức Trung ương", level="central", block="party")
    platform = make_system(
        name="Cơ sở dữ liệu đảng viên toàn quốc",
        description="Nền tảng dùng chung quản lý hồ sơ, lý lịch, biến động đảng viên trong toàn Đảng.",
        status="in_operation",
        is_shared_platform=True,
        owner_agency_id=central.id,
    )
    own = make_system(
        name="Cơ sở dữ liệu đảng viên Hà Nội",
        description="Hồ sơ, lý lịch đảng viên của Đảng bộ thành phố.",
        status="in_operation",
        scope_level="province",
        owner_agency_id=hanoi.id,
    )
    for n, province in enumerate(("Nghệ An", "Thanh Hóa", "Huế", "Đà Nẵng", "Cần Thơ", "Lào Cai", "Sơn La")):
        agency = make_agency(code=f"TU-{n}", name=f"Tỉnh ủy {province}", level="province", block="locality")
        make_system(
            name=f"Phần mềm quản lý hồ sơ đảng viên tỉnh {province}",
            description="Quản lý hồ sơ đảng viên, chuyển sinh hoạt đảng, thống kê đảng viên.",
            status="in_operation",
            scope_level="province",
            owner_agency_id=agency.id,
        )
    query = SimilarQuery(
        name="Phần mềm quản lý hồ sơ đảng viên Hà Nội",
        description="Quản lý hồ sơ đảng viên của Đảng bộ thành phố.",
        owner_agency_id=hanoi.id,
        scope_level="province",
    )
    matches = find_similar(session, query, k=4, locale="vi")
    assert [m.system.id for m in matches[:2]] == [platform.id, own.id]
    assert [m.kind for m in matches[:2]] == ["shared_platform", "own_agency"]
    assert all(m.kind == "other" for m in matches[2:])


def test_the_api_says_what_kind_of_match_each_is(client, documents):  # noqa: F811
    first = documents[0]
    response = client.post(
        "/api/v1/similar",
        json={"name": "Phần mềm quản lý văn bản", "owner_agency_id": first.owner_agency_id, "k": 3},
    )
    matches = response.get_json()["matches"]
    mine = next(m for m in matches if m["code"] == first.code)
    assert mine["kind"] == "own_agency"


@pytest.mark.parametrize(
    ("reason", "english", "vietnamese"),
    [
        (
            {"code": "same_function", "items": [{"function": "document_management", "term": "iOffice"}]},
            "Both do the same job, document management and workflow (“iOffice” is one of its names)",
            "Cả hai cùng làm một việc: quản lý văn bản và điều hành (“iOffice” là một tên gọi của việc này)",
        ),
        (
            {"code": "similar_meaning", "value": 2.4},
            "The descriptions mean much the same, even where the words differ",
            "Hai bản mô tả có nội dung gần như nhau",
        ),
        (
            {"code": "meaning_not_compared"},
            "Not yet compared by meaning: the texts are still being analysed",
            "Chưa so sánh được về nội dung",
        ),
    ],
)
def test_meaning_and_thesaurus_reasons_read_in_both_languages(app, reason, english, vietnamese):
    from flask_babel import force_locale

    from similarity.knowledge import default_knowledge

    names = {
        lang: {code: f.label(lang) for code, f in default_knowledge().functions.items()}
        for lang in ("en", "vi")
    }
    with app.test_request_context(), force_locale("en"):
        assert describe_reason(reason, {}, names["en"]) == english
    with app.test_request_context(), force_locale("vi"):
        assert describe_reason(reason, {}, names["vi"]).startswith(vietnamese)


def test_the_embed_command_reports_and_fills_what_is_missing(app, session, make_system):
    make_system(name="Hệ thống thư điện tử công vụ", description="Hộp thư cho cán bộ.")
    session.execute(delete(TextEmbedding))
    session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["embed", "--status"])
    assert result.exit_code == 0 and "0 of 1 live systems" in result.output
    result = runner.invoke(args=["embed"])
    assert result.exit_code == 0 and "Embedded 2 texts" in result.output
    assert stored(session) == 2
    assert "1 of 1 live systems" in runner.invoke(args=["embed", "--status"]).output


def test_a_system_saved_while_the_encoder_fails_is_still_saved(session, make_system, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("encoder crashed")

    monkeypatch.setattr(embeddings, "embed_systems", broken)
    system = make_system(name="Hệ thống quản lý thi đua khen thưởng", description="Khen thưởng.")
    assert session.get(InformationSystem, system.id) is not None


def test_the_review_queue_shows_the_embedding_jobs_progress(app, session, client_for):
    job = Job(
        kind=JobKind.EMBED,
        dedupe_key=embeddings.EMBED_KEY,
        active_key=embeddings.EMBED_KEY,
        state=JobState.RUNNING,
        step=JobStep.EMBED,
        done=500,
        total=2000,
        started_by_label="embedder",
    )
    session.add(job)
    session.commit()
    page = client_for("reviewer").get("/review/").get_data(as_text=True)
    assert "data-embedding-progress" in page and "500 trên 2.000 (25%)" in page
    assert f'href="/jobs/{job.id}"' in page  # the standing office may follow every job

    job.step = JobStep.COMPARE  # every text has its vector: the warning goes
    session.commit()
    assert "data-embedding-progress" not in client_for("reviewer").get("/review/").get_data(as_text=True)


def _texts_without_vectors(session: Session, make_system, count: int) -> None:
    for n in range(count):
        make_system(name=f"Hệ thống số {n} về quản lý hồ sơ", description=f"Mô tả riêng của hệ thống {n}.")
    session.execute(delete(TextEmbedding))
    session.commit()


def test_the_embedding_job_embeds_what_is_missing_then_compares_again(session, make_system, client_for):
    _texts_without_vectors(session, make_system, 3)
    office = client_for("reviewer")
    response = office.post("/jobs/embed")
    assert response.status_code == 302
    job = session.scalars(select(Job).where(Job.kind == JobKind.EMBED)).one()
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.counts["texts"] == job.counts["embedded"] == 6 and "pairs" in job.counts
    assert job.started_by_label != embeddings.EMBED_ACTOR.label  # the person who asked
    assert stored(session) == 6
    page = office.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-count="embedded">6<' in page and 'data-count="pairs"' in page

    again = office.post("/jobs/embed")  # nothing left: done at once, and nothing compared
    second = session.get(Job, int(again.headers["Location"].rsplit("/", 1)[1]))
    assert second.id != job.id and second.counts == {"texts": 0, "embedded": 0}
    page = office.get(again.headers["Location"]).get_data(as_text=True)
    assert 'data-count="pairs"' not in page and "không có gì để phân tích" in page.lower()


def test_a_cancelled_embedding_keeps_its_finished_batches_and_the_next_run_resumes(
    app, session, make_system, monkeypatch
):
    _texts_without_vectors(session, make_system, 3)
    monkeypatch.setattr(embeddings, "BATCH", 2)

    class CancelledAfterTheFirstBatch(Progress):
        def __call__(self, done: int, total: int) -> None:
            super().__call__(done, total)
            self.cancelled.set()  # someone pressed Cancel: the next report stops the work

    with pytest.raises(JobCancelled):
        embeddings.run_embedding(get_engine(app), CancelledAfterTheFirstBatch(), OPERATOR)
    assert stored(session) == 4  # two batches committed before the stop
    counts = embeddings.run_embedding(get_engine(app), Progress(), OPERATOR)
    assert (counts["texts"], counts["embedded"]) == (2, 2)
    assert embeddings.embedding_status(session).missing == 0


def test_an_embedding_job_without_the_encoder_fails_with_a_reason(app, session, monkeypatch, client_for):
    monkeypatch.setattr(embeddings, "default_embedder", lambda: None)
    office = client_for("reviewer")
    page = office.get(office.post("/jobs/embed").headers["Location"]).get_data(as_text=True)
    job = session.scalars(select(Job).where(Job.kind == JobKind.EMBED)).one()
    assert (job.state, job.error) == (JobState.FAILED, embeddings.ENCODER_MISSING)
    assert "data-job-error" in page and "SIMILARITY_SEMANTIC=off" in page and "<code>" not in page


def test_a_large_save_queues_the_embedding_job_in_its_own_transaction(app, session, make_system, monkeypatch):
    _texts_without_vectors(session, make_system, 2)
    systems = list(session.scalars(select(InformationSystem)))
    monkeypatch.setattr(embeddings, "INLINE_LIMIT", 1)
    with app.test_request_context():
        consequences.embed(session, systems)  # the test default: nothing queued
        session.rollback()
        assert session.scalars(select(Job)).first() is None

        app.config["EMBED_IN_BACKGROUND"] = True
        consequences.embed(session, systems)
        session.rollback()  # the save failed: its job goes with it
        assert session.scalars(select(Job)).first() is None

        consequences.embed(session, systems)
        session.commit()  # handed to the queue once committed (which here runs it at once)
    job = session.scalars(select(Job)).one()
    assert (job.kind, job.state, job.started_by_label) == (JobKind.EMBED, JobState.SUCCEEDED, "embedder")
    assert stored(session) == 4


def test_a_starting_worker_queues_the_embedding_only_when_texts_wait(app, session, make_system):
    make_system(name="Cổng dịch vụ công của tỉnh", description="Tiếp nhận hồ sơ trực tuyến.")
    job_queue.queue_pending_embedding(app)
    assert session.scalars(select(Job)).first() is None  # every text has its vector

    session.execute(delete(TextEmbedding))
    session.commit()
    job_queue.queue_pending_embedding(app)
    job = session.scalars(select(Job)).one()
    assert (job.kind, job.state, job.counts["embedded"]) == (JobKind.EMBED, JobState.SUCCEEDED, 2)


def test_the_api_and_the_command_queue_the_embedding_job(app, session, make_system, client_for):
    assert client_for("auditor").post("/api/v1/embeddings").status_code == 403
    answer = client_for("reviewer").post("/api/v1/embeddings")
    assert answer.status_code == 202 and answer.json["kind"] == "embed" and answer.json["created"] is True
    assert answer.headers["Location"].endswith(f"/api/v1/jobs/{answer.json['id']}")
    result = app.test_cli_runner().invoke(args=["embed", "--queue"])
    assert result.exit_code == 0 and "Embedding queued as job" in result.output
