"""Run ``crawler.replay`` in a subprocess, as Scrapy's own tests run their mock server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.request import urlopen


class MockServer:
    def __init__(self, routes: dict[str, Any] | Path, workdir: Path):
        if isinstance(routes, dict):
            path = workdir / "routes.json"
            path.write_text(json.dumps(routes), encoding="utf-8")
            routes = path
        self.routes = routes
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> MockServer:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "crawler.replay", str(self.routes)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("READY "), f"replay server did not start: {line!r}"
        self.url = line.split()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(timeout=10)

    def requests(self) -> list[str]:
        """Paths (with query) the server has answered so far."""
        with urlopen(f"{self.url}/__requests__") as response:
            return json.load(response)
