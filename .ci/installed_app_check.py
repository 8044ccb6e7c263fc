"""Start an installed registry from outside the checkout and sign in over HTTP as a demo account.

Usage: python3 .ci/installed_app_check.py VENV WORKDIR

Runs ``VENV/bin/htt-registry run`` with WORKDIR as its current directory and a fresh SQLite
database there, so nothing can be read from the repository: the templates, static files,
migrations, seed data and translations all have to come from the installed wheel. Then backs
that database up, restores it into another one and verifies the restored audit trail, with the
installed command. Only the standard library is used, so any Python runs it. Exits non-zero,
with the server's log or the command's output, on any failure.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

START_TIMEOUT = 300
"""Seconds for the first start: schema, demo portfolio and overlap scan on a busy machine."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main(venv: Path, workdir: Path) -> int:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'registry.sqlite3'}",
        "REGISTRY_QUEUE_URL": f"sqlite:///{workdir / 'queue.sqlite3'}",
        "PYTHONPATH": "",
    }
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [str(venv / "bin" / "htt-registry"), "run", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            sign_in(base, server)
        except Exception as exc:
            print(f"installed app check failed: {exc}", file=sys.stderr)
            sys.stderr.write(log_path.read_text(encoding="utf-8", errors="replace")[-6000:])
            return 1
        finally:
            server.terminate()
            server.wait(timeout=30)
    print("installed app check: started from the wheel and signed in as a demo account")
    restored = {
        **env,
        "DATABASE_URL": f"sqlite:///{workdir / 'restored.sqlite3'}",
        "REGISTRY_AUTO_SETUP": "0",
    }
    for args, command_env in (
        (["backup", str(workdir / "backup")], env),
        (["restore", str(workdir / "backup")], restored),
        (["audit", "verify"], restored),
    ):
        done = subprocess.run(
            [str(venv / "bin" / "htt-registry"), *args],
            cwd=workdir,
            env=command_env,
            capture_output=True,
            text=True,
            check=False,
        )
        print(f"htt-registry {args[0]}: {done.stdout.strip()}")
        if done.returncode != 0:
            print(f"htt-registry {' '.join(args)} failed:\n{done.stdout}{done.stderr}", file=sys.stderr)
            return 1
    return 0


def sign_in(base: str, server: subprocess.Popen[bytes]) -> None:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode}")
        try:
            page = opener.open(f"{base}/login", timeout=10).read().decode()
            break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                raise RuntimeError(f"no answer on {base}/login after {START_TIMEOUT} s") from None
            time.sleep(1)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', page
    )
    if token is None:
        raise RuntimeError("the sign-in page has no CSRF token")
    if "Đăng nhập" not in page:
        raise RuntimeError("the sign-in page is not in Vietnamese: the translations are missing")
    form = urllib.parse.urlencode(
        {"csrf_token": token.group(1), "username": "kiemtoan", "password": "demo-registry-2026"}
    ).encode()
    answer = opener.open(f"{base}/login", data=form, timeout=30)
    if answer.status != 200 or answer.url.rstrip("/").endswith("/login"):
        raise RuntimeError(f"sign-in refused: {answer.status} at {answer.url}")
    audit = opener.open(f"{base}/audit/", timeout=30)
    if audit.status != 200 or "/login" in audit.url:
        raise RuntimeError(f"the audit trail did not open after signing in: {audit.status} at {audit.url}")
    css = opener.open(f"{base}/static/css/app.css", timeout=30)
    if css.status != 200:
        raise RuntimeError(f"a static file is missing: {css.status}")


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()))
