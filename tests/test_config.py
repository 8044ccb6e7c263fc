import os
import subprocess
import sys

import pytest

from registry.config import ConfigError, load_settings, normalise_database_url
from registry.factory import create_app


def test_default_database_is_sqlite_in_instance_folder(tmp_path):
    settings = load_settings(tmp_path, environ={})
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    assert settings["BABEL_DEFAULT_LOCALE"] == "vi"


@pytest.mark.parametrize("secret", ["", "changeme", "dev"])
def test_production_refuses_placeholder_secret(tmp_path, secret):
    with pytest.raises(ConfigError):
        load_settings(tmp_path, environ={"REGISTRY_ENV": "production", "SECRET_KEY": secret})


def test_development_generates_a_random_secret(tmp_path):
    first = load_settings(tmp_path, environ={})["SECRET_KEY"]
    second = load_settings(tmp_path, environ={})["SECRET_KEY"]
    assert first != second and len(first) >= 32


def test_production_cookies_are_secure(tmp_path):
    settings = load_settings(tmp_path, environ={"REGISTRY_ENV": "production", "SECRET_KEY": "x" * 40})
    assert settings["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_use_psycopg(url, expected):
    assert normalise_database_url(url) == expected


def test_the_app_leaves_a_trace_when_a_native_extension_crashes(tmp_path):
    """A segfault in numpy, scikit-learn or a driver must leave Python stacks in the log."""
    program = (
        "import faulthandler, sys\n"
        "assert not faulthandler.is_enabled()\n"
        "from registry.factory import create_app\n"
        f"create_app({{'TESTING': True, 'AUTO_SETUP': False, 'SECRET_KEY': 'x', "
        f"'DATABASE_URL': 'sqlite:///{tmp_path}/r.sqlite3'}})\n"
        "faulthandler._sigsegv()\n"
    )
    crashed = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        env=_env_without_faulthandler(),
    )
    assert crashed.returncode != 0
    assert "Fatal Python error: Segmentation fault" in crashed.stderr
    assert 'File "<string>", line 5' in crashed.stderr


def _env_without_faulthandler() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTHONFAULTHANDLER"}


def test_the_instance_folder_can_live_outside_the_checkout(tmp_path, monkeypatch):
    monkeypatch.setenv("REGISTRY_INSTANCE_PATH", str(tmp_path / "var" / "registry"))
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "x", "AUTO_SETUP": False})
    assert app.instance_path == str(tmp_path / "var" / "registry")
    assert app.config["QUEUE_URL"] == f"sqlite:///{tmp_path / 'var' / 'registry' / 'queue.sqlite3'}"


def test_the_meaning_analysis_can_be_left_to_people(tmp_path):
    assert "EMBED_IN_BACKGROUND" not in load_settings(tmp_path, environ={})  # the default decides
    off = load_settings(tmp_path, environ={"REGISTRY_EMBED_IN_BACKGROUND": "0"})
    assert off["EMBED_IN_BACKGROUND"] is False
    assert load_settings(tmp_path, environ={"REGISTRY_EMBED_IN_BACKGROUND": "1"})["EMBED_IN_BACKGROUND"]
