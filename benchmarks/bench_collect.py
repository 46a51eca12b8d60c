"""What installing the package adds to every pytest process: collect-only of a tiny suite.

pytest loads every installed `pytest11` plugin in every process (and every
xdist worker), so an installed package's plugins cost each run even when no
test uses them. Three runs of `pytest --collect-only` on the same one-test
suite, interleaved, median of REPEATS each, in fresh interpreters:

- without the package: entry-point plugins off (PYTEST_DISABLE_PLUGIN_AUTOLOAD);
- base install: the same plus this package's two plugins (`-p ...`), which is
  all a base install adds (its dependencies bring no pytest plugin);
- this environment: every installed plugin autoloaded (the kit's Hypothesis
  and schemathesis, respx, xdist, ...: what the `[kit]`/test extras add), for scale.

The budget (issue 16): base install within 0.1 s of "without". Process
timings are noisy on a shared machine, so the import time of the two plugin
modules alone (after pytest, in a fresh interpreter) is printed too: the
part of the difference the package is responsible for. Never a test.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPEATS = 7
BUDGET_S = 0.1
PLUGINS = ("mockserver.testing.pytest_plugin", "contracts.kit.cli.pytest_plugin")
SUITE = "def test_nothing():\n    assert 1 + 1 == 2\n"


def _run(suite: Path, autoload: bool, plugins: tuple[str, ...]) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    else:
        env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
    args = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    for plugin in plugins:
        args += ["-p", plugin]
    started = time.perf_counter()
    # cwd is the suite: no ini file of this repository applies.
    subprocess.run([*args, str(suite)], cwd=suite, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


IMPORT_PLUGINS = (
    "import time, pytest\n"
    "started = time.perf_counter()\n"
    + "".join(f"import {name}\n" for name in PLUGINS)
    + "print(time.perf_counter() - started)\n"
)


def _plugin_import_time() -> float:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_PLUGINS], check=True, capture_output=True, text=True
    )
    return float(done.stdout)


def main() -> None:
    # name: (autoload installed plugins, plugins named with -p)
    configs: dict[str, tuple[bool, tuple[str, ...]]] = {
        "without the package": (False, ()),
        "base install (its 2 plugins)": (False, PLUGINS),
        "this environment (all plugins)": (True, ()),
    }
    timings: dict[str, list[float]] = {name: [] for name in configs}
    with tempfile.TemporaryDirectory() as tmp:
        suite = Path(tmp)
        (suite / "test_tiny.py").write_text(SUITE, encoding="utf-8")
        for config in configs.values():  # warm the OS file cache, not counted
            _run(suite, *config)
        for _ in range(REPEATS):
            for name, config in configs.items():
                timings[name].append(_run(suite, *config))
    medians = {name: statistics.median(values) for name, values in timings.items()}
    baseline = medians["without the package"]
    for name, median in medians.items():
        print(f"  {name:<32} {median * 1000:7.0f} ms  (+{(median - baseline) * 1000:5.0f} ms)")
    overhead = medians["base install (its 2 plugins)"] - baseline
    imports = statistics.median(_plugin_import_time() for _ in range(REPEATS))
    print(f"  importing the two plugins alone {imports * 1000:5.1f} ms")
    verdict = "within" if overhead <= BUDGET_S else "OVER"
    budget = f"{BUDGET_S * 1000:.0f} ms"
    print(f"  base install overhead {overhead * 1000:.0f} ms: {verdict} the {budget} budget")


if __name__ == "__main__":
    main()
