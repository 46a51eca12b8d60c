"""A base install has no httpx: the httpx helpers say which extra brings it."""

from __future__ import annotations

import sys

import pytest

from mockserver.testing import PlanasonixFake


@pytest.mark.parametrize(
    "helper", ["httpx_transport", "httpx_client", "httpx_async_transport", "httpx_async_client"]
)
def test_without_httpx_the_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, helper: str
) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)  # `import httpx` now fails
    monkeypatch.delitem(sys.modules, "mockserver.testing.httpx_transports", raising=False)
    with PlanasonixFake() as fake, pytest.raises(ModuleNotFoundError) as raised:
        getattr(fake, helper)()
    assert "planasonix-credentials-fake[httpx]" in str(raised.value)
    assert raised.value.name == "httpx"
