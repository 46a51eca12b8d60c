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
   (status, headers or body);
5. the Express deployment (tests/kit/deployments/express, Node; `make
   ecosystem-check` runs `npm ci` there), a correct one written from the
   published page in other readings than the fake's, judged by the kit: `run`
   on seeds 1, 2, 3 (exit 0, no VIOLATION line; expectations may be noted),
   `learn` + `diff` on the same seeds (exit 0), the kit's run through the kit's
   own validating proxy (`planasonix-contract proxy`) on the same seeds (kit
   exit 0, no violation in the proxy's report), and each one-bug copy
   (BUG=leak, isolation, lifecycle) caught by `run` alone (exit 1, a VIOLATION
   line of the check that owns the rule).

`--only express` runs step 5 alone. Exit status 0 when every step passes, 1
otherwise. Logs land in .ecosystem/.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx

import contracts
from contracts.kit.report import EXIT_VIOLATIONS

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

EXPRESS_DIR = ROOT / "tests" / "kit" / "deployments" / "express"
# The keys the Express deployment knows (the read-only one is of ws_a, like plnx_ind_a).
EXPRESS_KEYS = ["--api-key", "plnx_ind_a", "--second-api-key", "plnx_ind_b",
                "--read-only-api-key", "plnx_ind_ro"]  # fmt: skip
SEEDS = (1, 2, 3)
# A one-bug copy, and the check that owns its rule (a created_at moved by a
# restore may also be reported by the timestamps check; the lifecycle model must).
EXPRESS_BUGS: list[tuple[str, str]] = [
    ("leak", "secret-non-echo"),
    ("isolation", "auth-isolation"),
    ("lifecycle", "lifecycle"),
]


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


def wait_for_line(log: Path, pattern: str, process: subprocess.Popen[bytes]) -> str:
    """The first match of `pattern` in the log `process` writes, once it appears."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(pattern, log.read_text(errors="replace"))
        if found:
            return found.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(f"no line matching {pattern!r}; see {log}")


@contextmanager
def started(name: str, args: list[str], pattern: str, env: dict[str, str] | None = None
            ) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:  # fmt: skip
    """Run `args`, yield (the URL its output announces, the process); stop it at the end."""
    log = WORK / f"{name}.log"
    with log.open("w") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        try:
            yield wait_for_line(log, pattern, process), process
        finally:
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def express(bug: str | None = None) -> AbstractContextManager[tuple[str, subprocess.Popen[bytes]]]:
    """The Express deployment on a free loopback port (BUG set for a one-bug copy)."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not on PATH")
    env = {k: v for k, v in os.environ.items() if k not in ("BUG", "PORT")}
    if bug:
        env["BUG"] = bug
    name = f"express-{bug or 'valid'}"
    return started(name, [node, str(EXPRESS_DIR / "server.js"), "0"],
                   r"listening on (http://127\.0\.0\.1:\d+)", env)  # fmt: skip


def contract(name: str, *argv: str) -> tuple[int, str]:
    """`planasonix-contract ARGV`: (exit code, output); the output is kept in .ecosystem/."""
    run = subprocess.run([str(VENV_BIN / "planasonix-contract"), *argv],
                         capture_output=True, text=True, check=False, cwd=ROOT)  # fmt: skip
    (WORK / f"{name}.log").write_text(run.stdout + run.stderr)
    return run.returncode, run.stdout + run.stderr


def violation_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("VIOLATION ")]


def divergence_lines(text: str) -> list[str]:
    """The lines where `diff` names a divergence (drift or violation)."""
    return [line for line in text.splitlines() if re.match(r"  (drift|VIOLATION) ", line)]


def verdict_line(text: str) -> str:
    """The kit's last line (its verdict), for the step's summary."""
    lines = text.strip().splitlines()
    return lines[-1] if lines else "(no output)"


def express_runs(url: str) -> list[str]:
    problems: list[str] = []
    for seed in SEEDS:
        code, text = contract(f"express-run-{seed}", "run", "--base-url", url, *EXPRESS_KEYS,
                              "--seed", str(seed))  # fmt: skip
        found = violation_lines(text)
        print(f"  run seed {seed}: exit {code}; {verdict_line(text)}")
        if code != 0 or found:
            problems.append(f"express run seed {seed}: exit {code}, {found[:3]} "
                            f"(see .ecosystem/express-run-{seed}.log)")  # fmt: skip
    return problems


def express_learn_diff(url: str) -> list[str]:
    problems: list[str] = []
    for seed in SEEDS:
        profile = WORK / f"express-profile-{seed}.json"
        keys, seeded = EXPRESS_KEYS[:2], ["--seed", str(seed)]
        learned, _ = contract(f"express-learn-{seed}", "learn", "--base-url", url, *keys,
                              *seeded, "--output", str(profile))  # fmt: skip
        code, text = contract(f"express-diff-{seed}", "diff", "--base-url", url, *keys,
                              *seeded, "--profile", str(profile))  # fmt: skip
        print(f"  learn + diff seed {seed}: learn exit {learned}, diff exit {code}; "
              f"{verdict_line(text)}")  # fmt: skip
        for line in divergence_lines(text):
            print(f"    {line.strip()}")
        if learned != 0 or code != 0:
            problems.append(f"express learn/diff seed {seed}: learn exit {learned}, diff exit "
                            f"{code} (see .ecosystem/express-diff-{seed}.log)")  # fmt: skip
    return problems


def express_through_proxy(url: str) -> list[str]:
    """The kit's run through `planasonix-contract proxy`: both must find nothing."""
    problems: list[str] = []
    for seed in SEEDS:
        report = WORK / f"express-proxy-{seed}.json"
        report.unlink(missing_ok=True)
        proxy = [str(VENV_BIN / "planasonix-contract"), "proxy", "--upstream", url,
                 "--listen", f"{HOST}:0", "--report", str(report)]  # fmt: skip
        with started(f"express-proxy-{seed}", proxy, r"Proxying (\S+) -> ") as (proxied, process):
            code, text = contract(f"express-proxied-run-{seed}", "run", "--base-url", proxied,
                                  *EXPRESS_KEYS, "--seed", str(seed))  # fmt: skip
            process.send_signal(signal.SIGTERM)
            proxy_code = process.wait(timeout=30)
        seen = json.loads(report.read_text()) if report.exists() else {}
        violations = seen.get("violations", ["(no report written)"])
        print(f"  proxy seed {seed}: kit exit {code}, proxy exit {proxy_code}, "
              f"{len(violations)} proxy violation(s); {verdict_line(text)}")  # fmt: skip
        if code != 0 or violation_lines(text) or violations or proxy_code != 0:
            problems.append(f"express through the proxy seed {seed}: kit exit {code}, proxy exit "
                            f"{proxy_code}, {violations[:3]} (see .ecosystem/express-proxy-"
                            f"{seed}.json)")  # fmt: skip
    return problems


def express_bug_caught(bug: str, check: str) -> list[str]:
    """`run` alone catches the one-bug copy by the check that owns the rule."""
    with express(bug) as (url, _):
        code, text = contract(f"express-bug-{bug}", "run", "--base-url", url, *EXPRESS_KEYS,
                              "--seed", "1")  # fmt: skip
    owned = [v for v in violation_lines(text) if v.startswith(f"VIOLATION [{check}]")]
    print(f"  BUG={bug}: exit {code}; {len(owned)} violation(s) of {check}"
          + (f", first: {owned[0][:140]}" if owned else ""))  # fmt: skip
    if code != EXIT_VIOLATIONS or not owned:
        return [f"express BUG={bug} not caught by {check}: exit {code} "
                f"(see .ecosystem/express-bug-{bug}.log)"]  # fmt: skip
    return []


def check_express() -> list[str]:
    """Step 5: the kit against the Express deployment and its one-bug copies."""
    step(f"the Express deployment ({EXPRESS_DIR.relative_to(ROOT)}) judged by the kit")
    if not (EXPRESS_DIR / "node_modules" / "express").is_dir():
        return [f"express is not installed: run `npm ci --prefix {EXPRESS_DIR.relative_to(ROOT)}`"]
    try:
        with express() as (url, _):
            print(f"serving at {url}")
            problems = express_runs(url) + express_learn_diff(url) + express_through_proxy(url)
        for bug, check in EXPRESS_BUGS:
            problems += express_bug_caught(bug, check)
    except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as error:
        problems = [f"the Express step could not run: {error}"]
    return problems


def report(problems: list[str]) -> int:
    step("result")
    for problem in problems:
        print(f"  FAIL {problem}")
    print("ecosystem check passed" if not problems else f"{len(problems)} problem(s)")
    return 0 if not problems else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the ecosystem's tools against the contract")
    parser.add_argument("--only", choices=["express"], help="run only this step")
    only = parser.parse_args(argv).only
    WORK.mkdir(exist_ok=True)
    if only == "express":
        return report(check_express())
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

    problems += check_express()
    return report(problems)


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    sys.exit(main())
