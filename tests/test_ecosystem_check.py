"""What `tools/ecosystem_check.py` does without Node tools (`make ecosystem-check` runs it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from contracts.openapi import openapi_document

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "ecosystem_check.py"
# Lines as Prism 5 writes them (proxy mode, log only), its symbols left out.
PRISM_LOG = "\n".join(
    [
        "[7:11:27 AM] [VALIDATOR] error Violation: request Invalid security scheme used",
        "[7:11:27 AM] [VALIDATOR] warning Violation: request Selected route not found",
        "[7:11:27 AM] [PROXY] info The upstream call to /api/credentials has returned 200",
        "[7:11:27 AM] [VALIDATOR] warning Violation: response Unable to match the returned"
        " status code with those defined in the document: 200,401,403,404,429,500",
        "[7:11:28 AM] [VALIDATOR] error Violation: response.body.data.purged Response body"
        " property data.purged must be equal to constant",
    ]
)


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ecosystem_check", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_only_response_violations_count(tmp_path: Path) -> None:
    log = tmp_path / "prism.log"
    log.write_text(PRISM_LOG)
    found = _script().prism_response_violations(log)
    assert len(found) == 2
    assert "Unable to match the returned status code" in found[0]
    assert "response.body.data.purged" in found[1]


def test_the_mock_check_covers_every_operation_of_the_document() -> None:
    script = _script()
    checked = {
        (method.lower(), prefix + path.replace(script.EXAMPLE_ID, "{id}"))
        for prefix in script.PREFIXES
        for method, path, _, _ in script.OPERATIONS
    }
    declared = {
        (method, path)
        for path, item in openapi_document()["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert checked == declared
