"""`treatykb serve`, the Dockerfile's entry point: migrate, seed an empty database, serve."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def treatykb() -> list[str]:
    script = Path(sys.executable).parent / "treatykb"
    return [str(script)] if script.exists() else [sys.executable, "-m", "app.cli"]


def wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"treatykb serve exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail("treatykb serve did not become ready in 30 s")


def test_serve_migrates_seeds_and_serves(blank_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {"TREATYKB_DATABASE_URL": blank_url, "PATH": "/usr/bin:/bin"}
    command = [*treatykb(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, process)
        treaties = httpx.get(f"{base}/v1/treaties").json()
        assert {t["slug"] for t in treaties["items"]} == {"new-start", "open-skies", "inf"}
        response = httpx.get(f"{base}/v1/statements/lavrov-2020-11-12-wait-until-the-dust-settles")
        assert response.status_code == 200
        assert "server" not in response.headers  # no version advertised
    finally:
        process.terminate()
        process.wait(timeout=10)


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**__import__("os").environ, "TREATYKB_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], env=env, capture_output=True, text=True
    )


def test_a_curator_token_from_the_cli_works_once_revoked_never(fresh_url: str) -> None:
    created = _cli(fresh_url, "token", "create", "--name", "alice", "--role", "editor")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("tkb_")
    assert "Shown once" in created.stderr
    again = _cli(fresh_url, "token", "create", "--name", "alice")
    assert again.returncode == 1
    assert "exists" in again.stderr
    listed = _cli(fresh_url, "token", "list")
    assert "alice" in listed.stdout
    assert token not in listed.stdout  # never shown again
    assert _cli(fresh_url, "token", "revoke", "--name", "alice").returncode == 0
    assert "revoked" in _cli(fresh_url, "token", "list").stdout
