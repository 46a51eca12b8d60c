"""A page in headless Chromium calls the fake through `planasonix-contract proxy`;
the HAR Chromium's DevTools protocol records of that visit gives `check-har`
the proxy's verdict, offline.

The page is served by the upstream itself (as a dev server proxies `/api` to
the backend), so its calls are same-origin and go through the proxy. The HAR
is built from DevTools protocol events (Network domain, response bodies
fetched with Network.getResponseBody), spoken over `--remote-debugging-pipe`:
no WebSocket client and no browser-automation package needed.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import io
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import headless
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "kit"))

from proxy_variants import KEY, LeakInError, RestoreLosesConfig, fake_app

from contracts.kit.cli.main import main
from contracts.kit.fake_target import serve_wsgi
from contracts.kit.traffic.har import check_har
from contracts.kit.traffic.judge import Judge
from contracts.kit.traffic.proxy import watching

SECRET = "brwsr-" + base64.urlsafe_b64encode(os.urandom(18)).decode()
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>working</title><link rel="icon" href="data:,"></head>
<body><pre id="log"></pre>
<script>
const auth = {"Authorization": "Bearer __KEY__"};
const json = {...auth, "Content-Type": "application/json"};
const log = (t) => { document.getElementById("log").textContent += t + "\\n"; };
(async () => {
  try {
    const made = await fetch("/api/credentials", {method: "POST", headers: json,
      body: JSON.stringify({name: "from-browser", type: "password",
                            config: {username: "web", password: "__SECRET__"}})});
    const id = (await made.json()).data.id;
    log("created " + made.status);
    const bad = await fetch("/api/credentials", {method: "POST", headers: json,
      body: JSON.stringify({name: "bad", type: "database",
                            config: {port: "x", password: "__SECRET__-2"}})});
    log("invalid " + bad.status);
    await (await fetch("/api/credentials?limit=10", {headers: auth})).text();
    await (await fetch("/api/credentials/" + id, {method: "DELETE", headers: auth})).text();
    const restore = "/api/credentials/" + id + "/restore";
    await (await fetch(restore, {method: "POST", headers: auth})).text();
    const got = await fetch("/api/credentials/" + id, {headers: auth});
    log("after restore " + got.status + " " + JSON.stringify((await got.json()).data.config));
  } catch (e) {
    log("error " + e);
  }
  document.title = "done";
})();
</script></body></html>
"""


class PageAndApi:
    """The upstream: the page at `/`, everything else to the API application."""

    def __init__(self, api: Callable[..., Any]) -> None:
        self.api = api
        self.page = PAGE.replace("__KEY__", KEY).replace("__SECRET__", SECRET).encode()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"] in ("/", "/index.html"):
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [self.page]
        return self.api(environ, start_response)


def _above_nine(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


class DevTools:
    """Chromium's DevTools protocol over --remote-debugging-pipe (fd 3 in, fd 4 out)."""

    def __init__(self, chromium: str, profile: str) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # Above 9, so the shell's "3<&N 4>&M" below cannot clobber one with the other.
        to_browser_r = _above_nine(to_browser_r)
        from_browser_w = _above_nine(from_browser_w)
        args = [
            *headless.FLAGS,
            f"--user-data-dir={profile}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        # bash (dash knows no fd above 9) puts the pipes on the fds Chromium expects.
        script = f'exec "$0" "$@" 3<&{to_browser_r} 4>&{from_browser_w}'
        self.process = subprocess.Popen(
            [shutil.which("bash") or "/bin/bash", "-c", script, chromium, *args],
            pass_fds=(to_browser_r, from_browser_w),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next = 0
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._answers: dict[int, dict[str, Any]] = {}
        self._answered = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buffer = b""
        while True:
            chunk = os.read(self._from_browser, 65536)
            if not chunk:
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    with self._answered:
                        self._answers[message["id"]] = message
                        self._answered.notify_all()
                else:
                    self.events.put(message)

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        with self._answered:
            if not self._answered.wait_for(lambda: self._next in self._answers, timeout=30):
                raise TimeoutError(method)
            answer = self._answers.pop(self._next)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer.get("result", {})  # type: ignore[no-any-return]

    def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):
            self.call("Browser.close")
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self._to_browser)


def record_har(url: str, har_path: Path) -> str:
    """Load ``url`` in headless Chromium, write the visit as a HAR; returns the page's log."""
    # Debian's /usr/bin/chromium is a shell script that does not hand fds 3 and 4 on.
    binary = Path("/usr/lib/chromium/chromium")
    chromium = str(binary) if binary.exists() else shutil.which("chromium")
    assert chromium is not None
    profile = tempfile.mkdtemp(prefix="chromium-")
    tools = DevTools(chromium, profile)
    try:
        target = tools.call("Target.createTarget", url="about:blank")["targetId"]
        session = tools.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        tools.call("Network.enable", session)
        tools.call("Page.enable", session)
        tools.call("Page.navigate", session, url=url)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            title = tools.call("Runtime.evaluate", session, expression="document.title")
            if title["result"].get("value") == "done":
                break
            time.sleep(0.2)
        else:
            pytest.fail("the page did not finish")
        text = tools.call(
            "Runtime.evaluate", session, expression="document.getElementById('log').textContent"
        )["result"]["value"]
        entries = _har_entries(tools, session)
    finally:
        tools.close()
        shutil.rmtree(profile, ignore_errors=True)
    har = {
        "log": {"version": "1.2", "creator": {"name": "cdp", "version": "1"}, "entries": entries}
    }
    har_path.write_text(json.dumps(har), encoding="utf-8")
    return str(text)


def _records(headers: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in headers.items()]


def _har_entries(tools: DevTools, session: str) -> list[dict[str, Any]]:
    sent: dict[str, dict[str, Any]] = {}
    answered: dict[str, dict[str, Any]] = {}
    finished: dict[str, float] = {}
    for event in _drain(tools.events):
        params = event.get("params", {})
        rid = params.get("requestId")
        if event["method"] == "Network.requestWillBeSent":
            sent[rid] = params
        elif event["method"] == "Network.responseReceived":
            answered[rid] = params["response"]
        elif event["method"] == "Network.loadingFinished":
            finished[rid] = params["timestamp"]
    entries = []
    for rid, request_event in sent.items():
        if rid not in answered or rid not in finished:
            continue
        request, response = request_event["request"], answered[rid]
        if not request["url"].startswith("http"):
            continue
        body = tools.call("Network.getResponseBody", session, requestId=rid)
        content: dict[str, Any] = {"size": -1, "mimeType": response.get("mimeType", "")}
        content["text"] = body["body"]
        if body.get("base64Encoded"):
            content["encoding"] = "base64"
        started = datetime.fromtimestamp(request_event["wallTime"], UTC)
        took = (finished[rid] - request_event["timestamp"]) * 1000
        entry: dict[str, Any] = {
            "startedDateTime": started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "time": took,
            "request": {
                "method": request["method"],
                "url": request["url"],
                "httpVersion": "HTTP/1.1",
                "headers": _records(request.get("headers", {})),
            },
            "response": {
                "status": response["status"],
                "statusText": response.get("statusText", ""),
                "httpVersion": "HTTP/1.1",
                "headers": _records(response.get("headers", {})),
                "content": content,
            },
            "timings": {"send": 0, "wait": took, "receive": 0},
        }
        if request.get("hasPostData"):
            post = request.get("postData")
            if post is None:
                post = tools.call("Network.getRequestPostData", session, requestId=rid)["postData"]
            entry["request"]["postData"] = {
                "mimeType": request.get("headers", {}).get("Content-Type", ""),
                "text": post,
            }
        entries.append(entry)
    return entries


def _drain(events: queue.Queue[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    while True:
        try:
            yield events.get_nowait()
        except queue.Empty:
            return


def _verdicts(judge: Judge) -> list[tuple[str, str | None, str]]:
    return [(v.check, v.credential, v.message) for v in judge.violations]


@pytest.mark.parametrize(
    "variant",
    [None, LeakInError, RestoreLosesConfig],
    ids=["fake", "leak in an error", "restore loses config"],
)
def test_a_chromium_har_gives_the_proxys_verdict_offline(
    variant: Callable[..., Any] | None, tmp_path: Path
) -> None:
    api = variant(fake_app()) if variant else fake_app()
    live, printed = Judge(), io.StringIO()
    har = tmp_path / "chromium.har"
    with serve_wsgi(PageAndApi(api)) as upstream, watching(upstream, live, out=printed) as url:
        log = record_har(f"{url}/index.html", har)
    assert "created 201" in log and "invalid 400" in log and "error" not in log, log
    offline = check_har(har)
    assert offline.api_calls == live.api_calls == 6
    assert _verdicts(offline) == _verdicts(live), printed.getvalue()
    expected: dict[Any, set[str]] = {
        None: set(),
        LeakInError: {"secret-non-echo"},
        RestoreLosesConfig: {"lifecycle"},
    }
    assert {v.check for v in live.violations} == expected[variant], printed.getvalue()
    assert main(["check-har", str(har)]) == (1 if variant else 0)
    assert SECRET not in printed.getvalue()
