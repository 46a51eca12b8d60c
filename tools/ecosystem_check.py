"""`make ecosystem-check`: the served OpenAPI document as the ecosystem's tools read it.

Not part of `make test`: it needs Node tools (`make ecosystem-check` installs
@stoplight/spectral-cli and @stoplight/prism-cli into .ecosystem/node_modules)
and takes a minute or two. Steps, each printing what it found:

1. start the fake (`planasonix-mock serve`, 127.0.0.1, a free port) and fetch
   its `/openapi.json`, the document users feed their tools;
2. Spectral lints it with the repository's `.spectral.yaml`: 0 results of any
   severity;
3. `prism mock` (static: it answers the document's examples) answers every
   operation under both prefixes with a 2xx whose body is valid against the
   contract (`contracts.validate_response`, which also refuses any secret);
4. a Prism validating proxy sits in front of the fake while the conformance
   kit (`planasonix-contract run`) runs through it: the kit reports no
   violation and Prism reports no response that the document does not declare
   (status, headers or body).

Exit status 0 when every step passes, 1 otherwise. Logs land in .ecosystem/.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

import contracts

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".ecosystem"
NODE_BIN = WORK / "node_modules" / ".bin"
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"

KIT_KEY, OTHER_KEY, READ_ONLY_KEY = "plnx_eco_kit", "plnx_eco_other", "plnx_eco_reader"
EXAMPLE_ID = "cred_01j9k2m4n5p6q7r8"
CREATE = {"name": "eco-check", "type": "password", "config": {"username": "u", "password": "pw"}}
UPDATE = {"name": "eco-check-renamed"}
# (method, path under the prefix, request body, response kind of the contract)
OPERATIONS: list[tuple[str, str, Any, str]] = [
    ("GET", "/credentials", None, "credential_list"),
    ("POST", "/credentials", CREATE, "credential_envelope"),
    ("GET", f"/credentials/{EXAMPLE_ID}", None, "credential_envelope"),
    ("PUT", f"/credentials/{EXAMPLE_ID}", UPDATE, "credential_envelope"),
    ("DELETE", f"/credentials/{EXAMPLE_ID}", None, "delete_result"),
    ("POST", f"/credentials/{EXAMPLE_ID}/restore", None, "restore_result"),
    ("DELETE", f"/credentials/{EXAMPLE_ID}/permanent", None, "purge_result"),
]
PREFIXES = ("/api", "/v1/api")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running(name: str, args: list[str], ready_url: str) -> Iterator[Path]:
    """Run `args` until the block ends, once `ready_url` answers; yields its log file."""
    log = WORK / f"{name}.log"
    with log.open("w") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"{name} exited early; see {log}")
                try:
                    httpx.get(ready_url, timeout=2)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"{name} did not start; see {log}") from None
                    time.sleep(0.3)
            yield log
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def node_tool(name: str) -> str:
    tool = NODE_BIN / name
    if not tool.exists():
        raise SystemExit(f"{tool} is missing: run `make ecosystem-check`, which installs it")
    return str(tool)


def step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def spectral(document: Path) -> list[str]:
    run = subprocess.run(
        [node_tool("spectral"), "lint", str(document), "--ruleset", str(ROOT / ".spectral.yaml"),
         "--format", "json", "--fail-severity", "hint", "--quiet"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    text = run.stdout.strip()
    try:
        results = json.loads(text[: text.rindex("]") + 1]) if text else []
    except ValueError:
        return [f"spectral did not answer JSON (exit {run.returncode}): {run.stderr.strip()}"]
    problems = [
        f"{r.get('code')} at {'.'.join(map(str, r.get('path', [])))}: {r.get('message')}"
        for r in results
    ]
    if run.returncode != 0 and not problems:
        problems.append(f"spectral exited {run.returncode}: {run.stderr.strip()}")
    print(f"spectral: {len(results)} result(s) of any severity")
    return problems


def check_answers(base_url: str, key: str) -> list[str]:
    """Every operation under both prefixes: a 2xx with a body valid against the contract."""
    problems: list[str] = []
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        for prefix in PREFIXES:
            for method, path, body, kind in OPERATIONS:
                answer = client.request(method, prefix + path, json=body)
                label = f"{method} {prefix}{path}"
                errors: list[Any] = []
                if not 200 <= answer.status_code < 300:
                    errors = [f"status {answer.status_code}"]
                else:
                    try:
                        errors = contracts.validate_response(kind, answer.json())
                    except ValueError:
                        errors = ["the body is not JSON"]
                verdict = "ok" if not errors else "; ".join(map(str, errors))
                print(f"  {label:52} {answer.status_code}  {verdict}")
                if errors:
                    problems.append(f"{label}: {verdict}")
    return problems


def prism_response_violations(log: Path) -> list[str]:
    """Prism's proxy log lines that say a response breaks the document."""
    # Request violations are expected (the kit sends bad requests on purpose); a
    # response one reads "Violation: response..." (an undeclared status included).
    return [
        line.strip()
        for line in log.read_text(errors="replace").splitlines()
        if "violation: response" in line.lower()
    ]


def run_kit(base_url: str) -> tuple[int, list[str]]:
    report = WORK / "kit-report.json"
    run = subprocess.run(
        [str(VENV_BIN / "planasonix-contract"), "run", "--base-url", base_url,
         "--api-key", KIT_KEY, "--second-api-key", OTHER_KEY,
         "--read-only-api-key", READ_ONLY_KEY, "--report", str(report), "--timeout", "30"],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    (WORK / "kit.log").write_text(run.stdout + run.stderr)
    tail = (run.stdout + run.stderr).strip().splitlines()[-15:]
    return run.returncode, tail


def main() -> int:
    WORK.mkdir(exist_ok=True)
    problems: list[str] = []
    fake_port, mock_port, proxy_port = free_port(), free_port(), free_port()
    fake_url = f"http://{HOST}:{fake_port}"
    serve = [str(VENV_BIN / "planasonix-mock"), "serve", "--host", HOST, "--port", str(fake_port),
             "--api-key", f"{KIT_KEY}=ws_eco", "--api-key", f"{OTHER_KEY}=ws_other",
             "--read-only-key", f"{READ_ONLY_KEY}=ws_eco"]  # fmt: skip
    with running("fake", serve, f"{fake_url}/openapi.json"):
        step(f"the document the fake serves ({fake_url}/openapi.json)")
        served = httpx.get(f"{fake_url}/openapi.json").json()
        document = WORK / "openapi.json"
        document.write_text(json.dumps(served, indent=1))
        print(f"servers: {[s['url'] for s in served['servers']]}")
        if served["servers"][0]["url"] != fake_url:
            problems.append("the served document does not name the fake as its first server")

        step("Spectral (spectral:oas, .spectral.yaml)")
        problems += spectral(document)

        step("prism mock (static examples): every operation, both prefixes")
        mock = [node_tool("prism"), "mock", str(document), "--host", HOST, "--port",
                str(mock_port), "--cors", "false"]  # fmt: skip
        with running("prism-mock", mock, f"http://{HOST}:{mock_port}/api/credentials"):
            problems += check_answers(f"http://{HOST}:{mock_port}", "any-key")

        step("the kit through a Prism validating proxy in front of the fake")
        proxy = [node_tool("prism"), "proxy", str(document), fake_url, "--host", HOST,
                 "--port", str(proxy_port), "--cors", "false", "--validate-request", "false",
                 "--errors", "false"]  # fmt: skip
        with running("prism-proxy", proxy, f"http://{HOST}:{proxy_port}/openapi.json") as log:
            code, tail = run_kit(f"http://{HOST}:{proxy_port}")
            print("\n".join(f"  kit | {line}" for line in tail))
            if code != 0:
                problems.append(f"the kit exited {code} through the proxy (see .ecosystem/kit.log)")
            time.sleep(1)  # let Prism flush its log
            violations = prism_response_violations(log)
            print(f"prism: {len(violations)} response violation(s)")
            problems += [f"prism proxy: {line}" for line in violations[:50]]

    step("result")
    for problem in problems:
        print(f"  FAIL {problem}")
    print("ecosystem check passed" if not problems else f"{len(problems)} problem(s)")
    return 0 if not problems else 1


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    sys.exit(main())
