"""Where the folders that ship beside the code are found: templates, static files, migrations, seed.

In the repository they are top-level folders (``templates/``, ``static/``, ``migrations/``,
``seed/``) that people edit without touching Python. A built wheel has no repository around it,
so ``setup.py`` copies them into the package, under ``registry/bundled/``, at build time. The
code asks here instead of building paths from ``__file__``, so a checkout, an editable install
and an installed wheel all find the same files.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["BUNDLED_DIR", "SHIPPED_FOLDERS", "folder"]

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLED_DIR = PACKAGE_DIR / "bundled"
"""Inside an installed wheel: the copies made by ``setup.py``; absent from a checkout."""

CHECKOUT_DIR = PACKAGE_DIR.parent

SHIPPED_FOLDERS = ("templates", "static", "migrations", "seed")
"""The top-level folders a wheel carries; ``setup.py`` keeps the same list."""


def folder(name: str) -> Path:
    """The folder ``name`` (one of :data:`SHIPPED_FOLDERS`): the bundled copy when installed.

    >>> folder("templates").name
    'templates'
    """
    if name not in SHIPPED_FOLDERS:
        raise ValueError(f"{name!r} is not shipped with the package; one of {SHIPPED_FOLDERS}.")
    bundled = BUNDLED_DIR / name
    return bundled if bundled.is_dir() else CHECKOUT_DIR / name
