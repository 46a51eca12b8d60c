"""The one root of every error this project raises at its users.

`except PlanasonixError` catches any of them: a refused fixtures file, a
profile that cannot be read, an answer the fake gives on purpose, a contract
violation the kit found, a kit that could not run. Each error keeps the
built-in base it has always had, as a second base (`SeedError` is still a
`ValueError`, `ContractViolation` still an `AssertionError`), so code that
catches those keeps working.

It lives in `contracts`, below everything: the fake may import the contract,
never the other way round.
"""

from __future__ import annotations

__all__ = ["PlanasonixError"]


class PlanasonixError(Exception):
    """Base of every error the fake, the contract and the kit raise at their users.

    Messages never quote a secret, a key or a value a caller sent.
    """
