"""Reading the capability and data-domain taxonomies and the shared platforms, for pickers."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from registry.models import Capability, DataDomain, InformationSystem
from registry.text import fold


def localized_name(item: Capability | DataDomain, locale: str) -> str:
    """The English name when English is chosen, else the Vietnamese one."""
    return item.name_en if locale == "en" and item.name_en else item.name


def capabilities(session: Session) -> list[Capability]:
    return sorted(session.scalars(select(Capability)), key=lambda c: fold(c.name))


def data_domains(session: Session) -> list[DataDomain]:
    return sorted(session.scalars(select(DataDomain)), key=lambda d: fold(d.name))


def choices(items: list[Capability] | list[DataDomain], locale: str) -> list[tuple[int, str]]:
    return [(item.id, localized_name(item, locale)) for item in items]  # type: ignore[misc]  # ids of saved rows are set; SQLModel types them optional


def shared_platforms(session: Session) -> list[tuple[int, str]]:
    """(id, "code — name") of every shared platform: the choices for "deployment of"."""
    rows = session.execute(
        select(col(InformationSystem.id), col(InformationSystem.code), col(InformationSystem.name))
        .where(col(InformationSystem.is_shared_platform).is_(True))
        .order_by(col(InformationSystem.name_key))
    )
    return [(row.id, f"{row.name} ({row.code})") for row in rows]
