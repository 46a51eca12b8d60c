"""The console script says what to install when the kit's extra is missing."""

from __future__ import annotations

import importlib.util
from importlib.machinery import ModuleSpec

import pytest

from contracts.kit.cli import entry


def test_without_the_kit_extra_it_names_the_extra_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> ModuleSpec | None:
        return None if name == "schemathesis" else real_find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    assert entry.main(["run", "--target", "fake"]) == 2
    err = capsys.readouterr().err
    assert "schemathesis" in err
    assert "planasonix-credentials-fake[kit]" in err
    assert "Traceback" not in err


def test_with_the_kit_installed_it_runs_the_kit(capsys: pytest.CaptureFixture[str]) -> None:
    assert entry.missing_requirements() == []
    with pytest.raises(SystemExit) as exit_info:
        entry.main(["--help"])
    assert exit_info.value.code == 0
    assert "run" in capsys.readouterr().out
