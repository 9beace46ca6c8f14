"""Start ``journeylens serve`` in a child process on a free port, for the tests and the load benchmark.

A test harness, not part of the product: it lives under tests/ so the installed package does not carry it;
scripts that use it (bench_api, fuzz_api, dashboard_screenshots) put the repository root on sys.path."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    """A real uvicorn server in a subprocess; ``with ServerProcess(db, log) as server: server.url``.

    ``settings`` become ``JOURNEYLENS_*`` environment variables (lists and dicts as JSON). Leaving the block
    stops the server the way an operator would (SIGINT: queued writes finish, the run is recorded).
    """

    def __init__(self, db: Path, log_path: Path, settings: dict[str, Any] | None = None,
                 startup_timeout_s: float = 90.0) -> None:
        self.db, self.log_path = Path(db), Path(log_path)
        self.settings = settings or {}
        self.startup_timeout_s = startup_timeout_s
        self.port = 0
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        env = dict(os.environ)
        for name, value in self.settings.items():
            env[f"JOURNEYLENS_{name.upper()}"] = json.dumps(value) if isinstance(value, list | dict) else str(value)
        for attempt in range(3):  # another process may take the free port before the server binds it
            self.port = free_port()
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "nlp.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                     "--db", str(self.db)], env=env, stdout=log, stderr=subprocess.STDOUT,
                )
            if self._wait_ready():
                return
            self.stop()
            if attempt == 2 or "address already in use" not in self.log_path.read_text(errors="replace"):
                break
        raise RuntimeError(f"the server did not become ready; its log:\n{self.log_tail()}")

    def _wait_ready(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        return False

    def stop(self, timeout_s: float = 30.0) -> int | None:
        """Stop gracefully; returns the exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def log_tail(self, n: int = 40) -> str:
        if not self.log_path.is_file():
            return ""
        return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
