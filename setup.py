"""Build step that pyproject.toml cannot express: ship the top-level data folders in the wheel.

``templates/``, ``static/``, ``migrations/`` and ``seed/`` stay at the top of the repository,
where people edit them; the wheel carries copies under ``registry/bundled/``, where
``registry.resources.folder`` looks first. Editable installs skip the copy and read the
repository's folders directly. Everything else about the build is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SHIPPED_FOLDERS = ("templates", "static", "migrations", "seed")
"""Keep in step with ``registry.resources.SHIPPED_FOLDERS`` (a test compares them)."""


class BuildWithDataFolders(build_py):
    """``build_py`` that also copies the data folders into ``registry/bundled/``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        bundled = Path(self.build_lib) / "registry" / "bundled"
        # A stale build/ from an earlier build must not leak deleted files into the wheel.
        shutil.rmtree(bundled, ignore_errors=True)
        for name in SHIPPED_FOLDERS:
            shutil.copytree(
                HERE / name, bundled / name, ignore=shutil.ignore_patterns("__pycache__", "*.py[cod]")
            )


setup(cmdclass={"build_py": BuildWithDataFolders})
