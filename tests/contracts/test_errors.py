"""Every error raised at a user derives from one root, keeping its built-in base."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import contracts
import mockserver
from contracts.errors import PlanasonixError

# Not errors a user meets: a stop signal that must pass `except Exception`.
NOT_ERRORS = {"contracts.kit.cli.runner.Interrupted"}


def exception_classes() -> dict[str, type[BaseException]]:
    """Every exception class defined at the top of a module of both packages.

    Private ones (`_Name`) are signals inside one module, never raised at a user.
    """
    found: dict[str, type[BaseException]] = {}
    for package in (contracts, mockserver):
        names = [package.__name__]
        names += [
            info.name for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")
        ]
        for name in names:
            if name.rsplit(".", 1)[-1] == "__main__":
                continue  # runs the command line when imported
            module = importlib.import_module(name)
            for attr, value in vars(module).items():
                if (
                    inspect.isclass(value)
                    and issubclass(value, BaseException)
                    and value.__module__ == name
                    and not attr.startswith("_")
                ):
                    found[f"{name}.{value.__qualname__}"] = value
    return found


def test_the_walk_finds_the_errors_of_every_layer() -> None:
    found = exception_classes()
    for name in (
        "contracts.registry.SchemaViolation",
        "mockserver.errors.ApiError",
        "mockserver.seed.SeedError",
        "mockserver.standalone.persistence.StateFileError",
        "mockserver.testing.faults.FaultRuleError",
        "contracts.kit.violations.KitError",
    ):
        assert name in found


def test_every_error_derives_from_the_one_root() -> None:
    strays = sorted(
        name
        for name, cls in exception_classes().items()
        if name not in NOT_ERRORS and not issubclass(cls, PlanasonixError)
    )
    assert strays == [], f"derive these from contracts.errors.PlanasonixError: {strays}"


@pytest.mark.parametrize(
    ("name", "builtin"),
    [
        ("contracts.registry.SchemaViolation", ValueError),
        ("contracts.profile.ProfileError", ValueError),
        ("contracts.kit.violations.ContractViolation", AssertionError),
        ("contracts.kit.traffic.har.HarError", ValueError),
        ("mockserver.seed.SeedError", ValueError),
        ("mockserver.testing.faults.FaultRuleError", ValueError),
    ],
)
def test_the_builtin_bases_stay(name: str, builtin: type[BaseException]) -> None:
    cls = exception_classes()[name]
    assert issubclass(cls, builtin) and issubclass(cls, PlanasonixError)


def test_one_except_clause_catches_a_refused_seed_and_a_refused_profile() -> None:
    from mockserver.seed import load_fixtures

    with pytest.raises(PlanasonixError):
        load_fixtures({"workspaces": "no"}, mockserver.CredentialStore())
    with pytest.raises(PlanasonixError):
        contracts.load_profile({"deleted_names": "sometimes"})


def test_a_stop_signal_is_no_exception() -> None:
    # It must pass every `except Exception` on its way to the runner's cleanup.
    stop = exception_classes()["contracts.kit.cli.runner.Interrupted"]
    assert not issubclass(stop, Exception)
