"""An in-memory fake of the Planasonix Credentials API.

`create_app()` builds a Flask app; `CredentialStore` is the state behind it,
usable without HTTP; `Journal` records every request with secrets redacted.

The public names (declared in `__init__.pyi`) load on first use: the pytest
plugin imports this package in every test run of an environment that has it
installed, and most of those runs never touch Flask.
"""

from __future__ import annotations

from contracts.lazy_exports import attach_stub

# The names are declared once, in `__init__.pyi`; this loads each on first use.
__getattr__, __dir__, __all__ = attach_stub(__name__, __file__)

__version__ = "0.1.0"
