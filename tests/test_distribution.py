"""The wheel carries everything the app reads at run time, so it starts outside the checkout.

Building takes a second or two, so one module-scoped wheel serves every check here. CI also
installs that wheel into a clean virtual environment and signs in to it (``.ci/run``).
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from registry import resources

ROOT = Path(__file__).resolve().parent.parent
SOURCES = (
    "pyproject.toml",
    "setup.py",
    "MANIFEST.in",
    "README.md",
    "registry",
    "similarity",
    *resources.SHIPPED_FOLDERS,
)
LEFT_OUT = shutil.ignore_patterns("__pycache__", "*.py[cod]", "bundled", "build", "*.egg-info")


def files_under(folder: Path) -> list[str]:
    return sorted(
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The file list of a wheel built from a copy of the sources, as ``pip wheel .`` builds it."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    for name in SOURCES:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=LEFT_OUT)
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(origin, source / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            ".",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(work / "dist"),
        ],
        cwd=source,
        check=True,
        capture_output=True,
    )
    (wheel,) = (work / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


@pytest.mark.parametrize("name", resources.SHIPPED_FOLDERS)
def test_wheel_carries_every_file_of_the_data_folders(wheel_names: set[str], name: str) -> None:
    expected = {f"registry/bundled/{name}/{path}" for path in files_under(ROOT / name)}
    assert expected
    assert expected <= wheel_names, sorted(expected - wheel_names)[:5]


def test_wheel_carries_translations_similarity_data_and_the_command(wheel_names: set[str]) -> None:
    assert "registry/translations/vi/LC_MESSAGES/messages.mo" in wheel_names
    data = {f"similarity/data/{path}" for path in files_under(ROOT / "similarity" / "data")}
    assert data and data <= wheel_names
    assert any(name.endswith(".dist-info/entry_points.txt") for name in wheel_names)


def test_setup_copies_the_folders_the_code_looks_for() -> None:
    """``setup.py`` cannot import the package at build time, so it keeps its own list."""
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    (listed,) = (
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.AnnAssign | ast.Assign)
        and "SHIPPED_FOLDERS" in ast.unparse(node.targets[0] if isinstance(node, ast.Assign) else node.target)
    )
    assert tuple(listed) == resources.SHIPPED_FOLDERS


def test_folders_come_from_the_bundle_when_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resources.folder("migrations") == ROOT / "migrations"
    (tmp_path / "migrations").mkdir()
    monkeypatch.setattr(resources, "BUNDLED_DIR", tmp_path)
    assert resources.folder("migrations") == tmp_path / "migrations"
    with pytest.raises(ValueError, match="not shipped"):
        resources.folder("tests")


def test_the_installed_command_runs_the_flask_commands_without_app_py(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``htt-registry`` is what an installed wheel has instead of ``flask --app app``."""
    from registry.__main__ import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    monkeypatch.setenv("REGISTRY_QUEUE_URL", f"sqlite:///{tmp_path / 'queue.sqlite3'}")
    monkeypatch.setenv("REGISTRY_AUTO_SETUP", "0")
    monkeypatch.setattr(sys, "argv", ["htt-registry", "db", "current"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 0
    assert "database: empty; newest: " in capsys.readouterr().out
