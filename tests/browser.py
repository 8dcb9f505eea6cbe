"""Headless Chromium (Debian's ``chromium``) driven over the Chrome DevTools Protocol with the
``websockets`` package: open a page, wait for its load event, evaluate a script, take a
screenshot, and list every URL the page asked for. No browser download, no driver binary.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

#: Flags of a quiet, reproducible headless browser that talks to nothing but the pages it is sent to.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--hide-scrollbars", "--mute-audio", "--remote-debugging-port=0")
#: Generous hang guard for any one browser step (start, page load, command); never a timing check.
HANG_GUARD = 60.0


class BrowserError(RuntimeError):
    """The browser did not start, or answered a command with an error."""


def chromium() -> str:
    """The browser binary (``.ci/run`` installs Debian's ``chromium`` when it is missing)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        raise BrowserError("no chromium on PATH (.ci/run installs it: apt-get install chromium fonts-noto-cjk)")
    return path


class Browser:
    """One headless Chromium with a fresh profile in ``profile``, one tab."""

    def __init__(self, profile: Path):
        self.profile = profile
        self.proc: subprocess.Popen[bytes] | None = None
        self.ws: ClientConnection | None = None
        self.session = ""
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []
        self.stack = contextlib.ExitStack()

    def __enter__(self) -> Browser:
        self.profile.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([chromium(), *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = self.profile / "DevToolsActivePort"  # "<port>\n<browser websocket path>", written once listening
        deadline = time.monotonic() + HANG_GUARD
        while not (port_file.exists() and len(port_file.read_text().splitlines()) == 2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise BrowserError(f"chromium did not start (exit status {self.proc.poll()})")
            time.sleep(0.1)
        port, path = port_file.read_text().splitlines()
        self.ws = self.stack.enter_context(connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=HANG_GUARD))
        target = self.send("Target.createTarget", {"url": "about:blank"}, browser=True)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True}, browser=True)["sessionId"]
        self.send("Page.enable")
        self.send("Network.enable")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.ws is not None:
            try:
                self.send("Browser.close", browser=True)
            except Exception:  # the browser may close the socket before answering
                pass
            self.stack.close()
        if self.proc is not None:
            try:
                self.proc.wait(timeout=HANG_GUARD)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def send(self, method: str, params: dict[str, Any] | None = None, browser: bool = False) -> dict[str, Any]:
        """Run one DevTools command (in the tab unless ``browser``); events arriving meanwhile are kept."""
        assert self.ws is not None
        message: dict[str, Any] = {"id": next(self.ids), "method": method, "params": params or {}}
        if not browser:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        while True:
            answer = self._receive()
            if answer.get("id") == message["id"]:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def _receive(self) -> dict[str, Any]:
        assert self.ws is not None
        message = json.loads(self.ws.recv(timeout=HANG_GUARD))
        if "method" in message:
            self.events.append(message)
        return message

    def open(self, url: str, width: int, height: int) -> list[str]:
        """Load ``url`` in a ``width`` × ``height`` viewport, wait for its load event; the URLs it requested."""
        self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        while not any(event["method"] == "Page.loadEventFired" for event in self.events):
            self._receive()
        return [event["params"]["request"]["url"] for event in self.events if event["method"] == "Network.requestWillBeSent"]

    def evaluate(self, expression: str) -> Any:
        """The JSON value of ``expression`` in the page (awaited when it is a promise)."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path) -> None:
        """The whole page (beyond the viewport) as a JPEG at ``path`` (quicker to encode than PNG for long pages)."""
        data = self.send("Page.captureScreenshot", {"format": "jpeg", "quality": 80, "captureBeyondViewport": True})["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
