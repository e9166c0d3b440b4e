"""Headless Chromium (Debian's ``chromium``) driven over the DevTools protocol.

Only what the UI tests need: open a page, wait until the single-page app has
rendered something, read the DOM, click and type like a user, take screenshots and
read their pixels. The protocol is JSON over one websocket per page; ``websockets``
is the client.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import struct
import subprocess
import time
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

# Local URLs only: never through a proxy the environment may name.
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def find_chromium() -> str | None:
    """The Chromium executable on PATH, or None."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def stop_process_group(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """End ``process`` and every process it started (its own session): TERM, then KILL."""
    if process.poll() is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=grace)


def png_pixels(data: bytes) -> list[list[tuple[int, ...]]]:
    """The pixels of a PNG as Chromium writes it (8-bit RGB or RGBA, not interlaced), by row."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    position, header, compressed = 8, b"", b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            compressed += body
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or color not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, color type {color}, {interlace=}")
    channels = 3 if color == 2 else 4
    stride = width * channels
    raw = zlib.decompress(compressed)
    rows: list[list[tuple[int, ...]]] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            up_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - up_left
                near = min(
                    (abs(guess - left), 0, left),
                    (abs(guess - up), 1, up),
                    (abs(guess - up_left), 2, up_left),
                )
                line[i] = (line[i] + near[2]) & 0xFF
        rows.append([tuple(line[x : x + channels]) for x in range(0, stride, channels)])
        previous = line
    return rows


class DevToolsError(RuntimeError):
    """The browser answered a command with an error, or a wait ran out of time."""


class Page:
    """One browser tab, driven through its DevTools websocket."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
        """Run one protocol command and return its result (events seen meanwhile are kept)."""
        self._next_id += 1
        command_id = self._next_id
        self._socket.send(json.dumps({"id": command_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DevToolsError(f"{method}: no answer in {timeout} s")
            message = json.loads(self._socket.recv(timeout=left))
            if message.get("id") == command_id:
                if "error" in message:
                    raise DevToolsError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (awaited when it is a promise)."""
        result = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise DevToolsError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def navigate(self, url: str) -> None:
        """Open ``url`` in this tab (returns when the navigation is committed)."""
        result = self.send("Page.navigate", url=url)
        if result.get("errorText"):
            raise DevToolsError(f"cannot open {url}: {result['errorText']}")

    def wait_for(self, expression: str, timeout: float = 30.0, what: str = "") -> Any:
        """Poll a JavaScript expression until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        last_error = ""
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except DevToolsError as error:  # e.g. the page is navigating
                value, last_error = None, str(error)
            if value:
                return value
            time.sleep(0.25)
        text = self.text()[-2000:]
        raise DevToolsError(
            f"waited {timeout} s for {what or expression}; {last_error}\npage text:\n{text}"
        )

    def response(self, url_part: str, timeout: float = 30.0) -> tuple[str, int, str]:
        """URL, status and body of the first loaded response whose URL contains ``url_part``.

        Needs ``Network.enable`` before the page loads.
        """
        deadline = time.monotonic() + timeout
        while True:
            responses = {
                event["params"]["requestId"]: event["params"]["response"]
                for event in self.events
                if event["method"] == "Network.responseReceived"
                and url_part in event["params"]["response"]["url"]
            }
            finished = [
                event["params"]["requestId"]
                for event in self.events
                if event["method"] == "Network.loadingFinished"
                and event["params"]["requestId"] in responses
            ]
            if finished:
                request_id = finished[0]
                body = self.send("Network.getResponseBody", requestId=request_id)
                text = body["body"]
                if body.get("base64Encoded"):
                    text = base64.b64decode(text).decode()
                response = responses[request_id]
                return response["url"], int(response["status"]), text
            if time.monotonic() > deadline:
                raise DevToolsError(f"the page loaded nothing from a URL with {url_part!r}")
            self.evaluate("0")  # collects the events that came meanwhile
            time.sleep(0.2)

    def text(self) -> str:
        """The page's visible text."""
        try:
            return str(self.evaluate("document.body ? document.body.innerText : ''"))
        except DevToolsError as error:
            return f"(no text: {error})"

    def url(self) -> str:
        """The page's current URL."""
        return str(self.evaluate("location.href"))

    def click_at(self, x: float, y: float) -> None:
        """A left mouse click at viewport coordinates, as a user's."""
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            extra: dict[str, Any] = (
                {} if kind == "mouseMoved" else {"button": "left", "clickCount": 1}
            )
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, **extra)

    def click(self, selector_expression: str, what: str, timeout: float = 20.0) -> None:
        """Click the middle of the element a JavaScript expression finds (waits for it)."""
        box = self.wait_for(
            f"""(() => {{
                const element = {selector_expression};
                if (!element) return null;
                element.scrollIntoView({{block: 'center'}});
                const box = element.getBoundingClientRect();
                if (box.width === 0 || box.height === 0) return null;
                return {{x: box.x + box.width / 2, y: box.y + box.height / 2}};
            }})()""",
            timeout=timeout,
            what=what,
        )
        self.click_at(box["x"], box["y"])

    def type_text(self, text: str) -> None:
        """Type ``text`` into the focused element."""
        self.send("Input.insertText", text=text)

    def press_enter(self) -> None:
        """Press and release the Enter key."""
        keys: dict[str, Any] = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13}
        self.send("Input.dispatchKeyEvent", type="keyDown", text="\r", **keys)
        self.send("Input.dispatchKeyEvent", type="keyUp", **keys)

    def screenshot(self, path: Path, clip: dict[str, float] | None = None) -> Path:
        """Save a PNG of the whole page, or of the ``clip`` rectangle of it, to ``path``.

        ``clip`` is ``{x, y, width, height}`` in page (document) coordinates.
        """
        options: dict[str, Any] = {"format": "png", "captureBeyondViewport": True}
        if clip is not None:
            options["clip"] = {**clip, "scale": 1}
        data = self.send("Page.captureScreenshot", **options)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data["data"]))
        return path


class Chromium:
    """A headless Chromium process with a throw-away profile, and its DevTools endpoint."""

    def __init__(self, executable: str, profile: Path, log: Path) -> None:
        self.executable = executable
        self.profile = profile
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self, timeout: float = 30.0) -> None:
        """Start the browser and wait for its DevTools port."""
        self.profile.mkdir(parents=True, exist_ok=True)
        port_file = self.profile / "DevToolsActivePort"
        port_file.unlink(missing_ok=True)  # a browser before this one's
        command = [
            self.executable,
            "--headless",
            # Root cannot use the sandbox; the pages are the local Airflow UI only.
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-sync",
            "--hide-scrollbars",
            "--mute-audio",
            "--window-size=1440,1000",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--user-data-dir={self.profile}",
            "about:blank",
        ]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DevToolsError(
                    f"chromium exited with {self.process.returncode}:\n{self.log.read_text()}"
                )
            if port_file.exists():
                first = port_file.read_text().split("\n", 1)[0].strip()
                if first.isdigit():
                    self.port = int(first)
                    return
            time.sleep(0.1)
        raise DevToolsError(f"chromium opened no DevTools port in {timeout} s")

    def _request(self, path: str, method: str = "GET") -> bytes:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method)
        with _LOCAL.open(request, timeout=10) as response:
            return response.read()

    @contextlib.contextmanager
    def page(self) -> Iterator[Page]:
        """A new tab, closed afterwards."""
        target = json.loads(self._request("/json/new?about:blank", method="PUT"))
        socket = connect(target["webSocketDebuggerUrl"], max_size=None, proxy=None, open_timeout=10)
        try:
            page = Page(socket)
            page.send("Page.enable")
            page.send("Runtime.enable")
            page.send(
                "Emulation.setDeviceMetricsOverride",
                width=1440,
                height=1000,
                deviceScaleFactor=1,
                mobile=False,
            )
            yield page
        finally:
            socket.close()
            with contextlib.suppress(OSError):
                self._request(f"/json/close/{target['id']}")

    def stop(self) -> None:
        """End the browser and all its helper processes."""
        if self.process is not None:
            stop_process_group(self.process)
            self.process = None

    def __enter__(self) -> Chromium:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
