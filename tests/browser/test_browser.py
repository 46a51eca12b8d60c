"""A page on another origin calls the fake through CORS; the dashboard renders."""

from __future__ import annotations

import functools
import html
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import headless
import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo.json"
DEV_KEY = "plnx_test_dev_key"

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>frontend</title></head>
<body>
<p id="origin"></p><ul id="creds"></ul><p id="request-id"></p><p id="created"></p>
<p id="error"></p>
<script>
const FAKE = "__FAKE__";
const auth = {"Authorization": "Bearer __KEY__"};
document.getElementById("origin").textContent = location.origin;
(async () => {
  try {
    const list = await fetch(FAKE + "/api/credentials?status=all&limit=200", {headers: auth});
    const body = await list.json();
    document.getElementById("request-id").textContent = "rid:" + list.headers.get("X-Request-Id");
    for (const c of body.data) {
      const li = document.createElement("li");
      li.className = "cred";
      li.textContent = c.name + "|" + c.status;
      document.getElementById("creds").appendChild(li);
    }
    const created = await fetch(FAKE + "/api/credentials", {
      method: "POST",
      headers: {...auth, "Content-Type": "application/json"},
      body: JSON.stringify({name: "from-browser", type: "password", config: {password: "pw-1"}}),
    });
    document.getElementById("created").textContent = "created:" + created.status;
  } catch (e) {
    document.getElementById("error").textContent = "error:" + e;
  }
})();
</script>
</body></html>
"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def dump_dom(url: str) -> str:
    return headless.dump_dom(url, budget_ms=10000)[0]


@pytest.fixture(scope="module")
def fake_url() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--seed", str(DEMO)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=str(ROOT),
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 20
    url = None
    while time.monotonic() < deadline and url is None:
        line = process.stdout.readline()
        if not line:
            break
        match = re.match(r"Listening on (\S+)", line)
        if match:
            url = match.group(1)
    if url is None:
        process.kill()
        pytest.fail("the fake did not start")
    # Keep draining its log so the pipe never fills.
    threading.Thread(target=process.stdout.read, daemon=True).start()
    yield url
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=20)


@pytest.fixture(scope="module")
def page_url(fake_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("frontend")
    (folder / "index.html").write_text(
        PAGE.replace("__FAKE__", fake_url).replace("__KEY__", DEV_KEY), encoding="utf-8"
    )
    handler = functools.partial(_QuietHandler, directory=os.fspath(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # "localhost" vs the fake's 127.0.0.1 and another port: certainly another origin.
    yield f"http://localhost:{server.server_address[1]}/index.html"
    server.shutdown()
    server.server_close()


def test_page_on_another_origin_lists_demo_credentials(page_url: str, fake_url: str) -> None:
    dom = html.unescape(dump_dom(page_url))
    assert 'id="error">error' not in dom, dom
    assert re.search(r'id="origin">http://localhost:\d+<', dom)
    assert fake_url not in re.search(r'id="origin">([^<]*)<', dom).group(1)  # type: ignore[union-attr]
    names = re.findall(r'<li class="cred">([^<|]+)\|', dom)
    for expected in ("prod-snowflake-reader", "staging-postgres-etl"):
        assert expected in names, dom
    assert re.search(r"rid:req_\w+", dom), "X-Request-Id must be readable through CORS"
    assert "created:201" in dom


def test_dashboard_renders(fake_url: str) -> None:
    dom = html.unescape(dump_dom(f"{fake_url}/_mock/"))
    assert 'data-loaded="true"' in dom, dom[-3000:]
    names = re.findall(r'<td class="cred-name">([^<]+)</td>', dom)
    assert "prod-snowflake-reader" in names
    assert "from-browser" in names or "staging-postgres-etl" in names
    assert re.search(r'<tr class="journal-record">', dom)
    assert "pw-1" not in dom and "demo-only-" not in dom
