"""The Planasonix Credentials API contract: schemas, registry, OpenAPI document, strategies.

This package knows nothing of the fake in ``mockserver`` nor of the conformance
kit in ``contracts.kit``; both import it.

The public names (declared in ``__init__.pyi``) load on first use: pytest
imports ``contracts.kit.cli.pytest_plugin`` (and so this package) in every run
of an environment that has it installed, and building the registry
(jsonschema, every schema file) is most of that cost for runs that never use it.
"""

from __future__ import annotations

from contracts.lazy_exports import attach_stub

# The names are declared once, in `__init__.pyi`; this loads each on first use.
__getattr__, __dir__, __all__ = attach_stub(__name__, __file__)
