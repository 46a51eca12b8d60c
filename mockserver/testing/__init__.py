"""Test doubles built on the fake, and the pytest plugin that hands them out.

- `PlanasonixFake` (`fake`): a fresh in-process fake, no sockets.
- `LiveServer` / `LiveFake` (`live`): the same behind a real socket on 127.0.0.1.
- `InterceptedFake` (`intercept`): answers calls to the real API host.
- `Faults` / `FaultRuleError` (`faults`): `fake.faults`, the control plane's fault rules.
- `call_wsgi` / `WSGIAdapter` (`transports`): reach a WSGI app without a socket.
- `pytest_plugin`: the `planasonix_fake`, `planasonix_server` and
  `planasonix_intercept` fixtures.

Names (declared in `__init__.pyi`) load on first use: pytest imports this
package (for its plugin) in every run of an environment that has it
installed, and most runs never use it.
"""

from __future__ import annotations

from contracts.lazy_exports import attach_stub

# The names are declared once, in `__init__.pyi`; this loads each on first use.
__getattr__, __dir__, __all__ = attach_stub(__name__, __file__)
