"""Twenty people saving the same system at once: one wins per version, no update is lost."""

from __future__ import annotations

import re
import threading
from collections import Counter

from sqlalchemy import func, select
from sqlmodel import Session

from registry.auth.actor import Actor
from registry.db import get_engine
from registry.errors import StaleEditError
from registry.models import AuditEvent, InformationSystem
from registry.services import audit
from registry.services.systems import SystemInput, get_system, update_system

WRITERS = 20


def test_concurrent_writers_each_win_exactly_one_version(app, session, make_system):
    system = make_system(name="Hệ thống dùng chung", purpose="")
    engine = get_engine(app)
    start = threading.Barrier(WRITERS)
    lock = threading.Lock()
    winners: Counter[int] = Counter()  # version edited → number of saves that won on it
    stale_errors: list[int] = []
    crashes: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with app.app_context():
                start.wait()
                while True:
                    with Session(engine, expire_on_commit=False) as own:
                        mine = get_system(own, system.code)
                        seen = mine.version
                        data = SystemInput.from_system(mine)
                        data.purpose = f"{data.purpose or ''}[{n}]"
                        try:
                            update_system(
                                own, mine, data, actor=Actor.operator(f"writer-{n}"), expected_version=seen
                            )
                            own.commit()
                        except StaleEditError:
                            with lock:
                                stale_errors.append(n)
                            continue
                        with lock:
                            winners[seen] += 1
                        return
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            crashes.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert crashes == []
    assert winners == Counter(dict.fromkeys(range(1, WRITERS + 1), 1))  # one winner per version
    assert stale_errors, "the writers never collided: the test proved nothing"
    session.expire_all()
    saved = session.get(InformationSystem, system.id)
    assert saved.version == WRITERS + 1
    assert sorted(int(n) for n in re.findall(r"\[(\d+)\]", saved.purpose)) == list(
        range(WRITERS)
    )  # none lost
    updates = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "system.update")
    assert session.scalar(updates) == WRITERS
    assert audit.verify(session).ok  # concurrent appends did not fork the chain
    print(f"{WRITERS} writers: {len(stale_errors)} stale-edit refusals, {WRITERS} saves, no update lost")
