"""Test doubles built on the fake, and the pytest plugin that hands them out.

- `PlanasonixFake` (`fake`): a fresh in-process fake, no sockets.
- `LiveServer` / `LiveFake` (`live`): the same behind a real socket on 127.0.0.1.
- `InterceptedFake` (`intercept`): answers calls to the real API host.
- `Faults` / `FaultRuleError` (`faults`): `fake.faults`, the control plane's fault rules.
- `call_wsgi` / `WSGIAdapter` (`transports`): reach a WSGI app without a socket.
- `pytest_plugin`: the `planasonix_fake`, `planasonix_server` and
  `planasonix_intercept` fixtures.

Names load on first use: pytest imports this package (for its plugin) in
every run of an environment that has it installed, and most runs never use it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .fake import IN_PROCESS_URL, PUBLIC_HOST, PUBLIC_URL, PlanasonixFake, SeedSource
    from .faults import FaultRuleError, Faults
    from .intercept import InterceptedFake, host_pattern
    from .live import LiveFake, LiveServer
    from .transports import WSGIAdapter, WSGIResult, call_wsgi

# Where each public name lives; kept in step with __all__ by tests/testing/test_package.py.
_EXPORTS = {
    "IN_PROCESS_URL": ".fake",
    "PUBLIC_HOST": ".fake",
    "PUBLIC_URL": ".fake",
    "PlanasonixFake": ".fake",
    "SeedSource": ".fake",
    "FaultRuleError": ".faults",
    "Faults": ".faults",
    "InterceptedFake": ".intercept",
    "host_pattern": ".intercept",
    "LiveFake": ".live",
    "LiveServer": ".live",
    "WSGIAdapter": ".transports",
    "WSGIResult": ".transports",
    "call_wsgi": ".transports",
}

__all__ = [
    "IN_PROCESS_URL",
    "PUBLIC_HOST",
    "PUBLIC_URL",
    "FaultRuleError",
    "Faults",
    "InterceptedFake",
    "LiveFake",
    "LiveServer",
    "PlanasonixFake",
    "SeedSource",
    "WSGIAdapter",
    "WSGIResult",
    "call_wsgi",
    "host_pattern",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
