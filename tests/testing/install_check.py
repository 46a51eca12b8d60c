"""`make install-check`: install this checkout into fresh venvs, as a downstream project would.

1. `pip install <checkout>` (no extras): the fixtures work in a downstream
   test (faults included), `planasonix-mock serve --seed demo` serves the
   bundled demo data, and neither Hypothesis nor schemathesis is installed.
2. `pip install '<checkout>[kit]'` in the same venv: `planasonix-contract` runs.

Needs the package index (minutes), so it is not part of `make test`; the
in-suite tests/testing/test_slim_install.py covers what can be checked cheaply.
Exit status 0 when every step passed.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

DOWNSTREAM_TEST = """
def test_fixture_with_a_fault(planasonix_fake):
    planasonix_fake.faults.add(status=503, times=1)
    url, headers = planasonix_fake.url + "/api/credentials", planasonix_fake.auth_headers
    assert planasonix_fake.session.get(url, headers=headers).status_code == 503
    assert planasonix_fake.session.get(url, headers=headers).status_code == 200
    planasonix_fake.verify("GET", "/api/credentials", times=2)


def test_intercept(planasonix_intercept):
    import requests
    r = requests.get("https://api.planasonix.com/api/credentials",
                     headers=planasonix_intercept.auth_headers)
    assert r.status_code == 200
"""


def step(title: str) -> None:
    print(f"== {title}", flush=True)


def run(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(map(str, args))}\n{done.stdout}\n{done.stderr}")
    return done.stdout


def serve_demo(bin_dir: Path, cwd: Path) -> None:
    process = subprocess.Popen(
        [str(bin_dir / "planasonix-mock"), "serve", "--port", "0", "--seed", "demo"],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        bufsize=0,
    )
    assert process.stdout is not None
    seen, deadline = b"", time.monotonic() + 30
    try:
        while time.monotonic() < deadline and b"Listening on" not in seen:
            if select.select([process.stdout], [], [], 0.5)[0]:
                seen += os.read(process.stdout.fileno(), 65536)
        match = re.search(rb"Listening on (\S+)", seen)
        if match is None:
            raise SystemExit("serve --seed demo did not start:\n" + seen.decode())
        request = urllib.request.Request(
            match.group(1).decode() + "/api/credentials",
            headers={"Authorization": "Bearer plnx_test_dev_key"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            names = [c["name"] for c in json.load(response)["data"]]
        if not names:
            raise SystemExit("serve --seed demo served no credentials")
        print(f"   serve --seed demo: {len(names)} credentials listed", flush=True)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="planasonix-install-") as tmp:
        home = Path(tmp)
        step("fresh venv, pip install <checkout> (no extras)")
        venv.create(home / "venv", with_pip=True)
        bin_dir = home / "venv" / "bin"
        python = bin_dir / "python"
        run(python, "-m", "pip", "install", "--quiet", ROOT)
        installed = run(python, "-m", "pip", "list", "--format=freeze").lower()
        extra = [n for n in ("hypothesis", "schemathesis") if f"\n{n}==" in "\n" + installed]
        if extra:
            raise SystemExit(f"the base install pulled the kit's dependencies: {extra}")
        print("   no hypothesis, no schemathesis", flush=True)

        step("downstream suite with the fixtures")
        suite = home / "downstream"
        suite.mkdir()
        (suite / "test_downstream.py").write_text(DOWNSTREAM_TEST, encoding="utf-8")
        print(
            "   "
            + run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=suite)
            .strip()
            .splitlines()[-1],
            flush=True,
        )

        step("planasonix-mock serve --seed demo (outside the checkout)")
        serve_demo(bin_dir, suite)

        step("planasonix-contract without the kit extra names the extra")
        done = subprocess.run(
            [str(bin_dir / "planasonix-contract"), "--help"], capture_output=True, text=True
        )
        if done.returncode != 2 or "[kit]" not in done.stderr or "Traceback" in done.stderr:
            raise SystemExit(f"planasonix-contract without [kit]: {done.returncode} {done.stderr}")
        print("   says: " + done.stderr.strip(), flush=True)

        step("pip install '<checkout>[kit]' adds planasonix-contract")
        run(python, "-m", "pip", "install", "--quiet", f"{ROOT}[kit]")
        run(bin_dir / "planasonix-contract", "--help")
        print("   planasonix-contract --help: ok", flush=True)
    print("install-check: all passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
