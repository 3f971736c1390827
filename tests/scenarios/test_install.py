"""The install cannot drift: CI runs the README's test command, and what is installed is what the lock pins."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from support.paths import REPO

ROOT = REPO
# What `python3 -m venv` puts in every venv before the lock is read; the project itself.
NOT_LOCKED = {"pip", "setuptools", "wheel", "assistant"}
# The main lock, and the packages installed without their declared dependencies (see requirements-nodeps.in).
LOCKS = ("requirements.lock", "requirements-nodeps.lock")


def readme_commands() -> list[str]:
    setup = ROOT.joinpath("README.md").read_text().split("## Set up", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", setup, flags=re.DOTALL)]


def locked_versions() -> dict[str, Version]:
    """name -> pinned version, for the pins whose environment marker holds here."""
    pins: dict[str, Version] = {}
    lines = [line for lock in LOCKS for line in ROOT.joinpath(lock).read_text().splitlines()]
    for line in lines:
        if not line or line.startswith((" ", "#")):
            continue
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        (spec,) = requirement.specifier
        assert spec.operator == "==", f"not an exact pin: {line}"
        pins[canonicalize_name(requirement.name)] = Version(spec.version)
    return pins


def test_ci_runs_the_readmes_test_command_exactly() -> None:
    install_and_run, run_tests = readme_commands()
    assert install_and_run.startswith("scripts/setup.sh && ")
    assert run_tests.startswith("scripts/setup.sh --tests && ")
    ci_lines = [line.strip() for line in ROOT.joinpath(".ci/run").read_text().splitlines()]
    assert run_tests in ci_lines


def test_every_installed_package_is_the_locked_version() -> None:
    pins = locked_versions()
    wrong = []
    for distribution in metadata.distributions():
        name = canonicalize_name(distribution.metadata["Name"])
        if name in NOT_LOCKED:
            continue
        installed = Version(distribution.version)
        # a local build label (torch 2.13.0+cpu) is the same release as the pin
        if name not in pins or Version(installed.public) != pins[name]:
            wrong.append(f"{name} {installed} (lock: {pins.get(name, 'absent')})")
    assert not wrong, "installed outside the lock: " + ", ".join(sorted(wrong))


def test_the_lock_covers_every_dependency_the_project_declares() -> None:
    pins = locked_versions()
    declared = [Requirement(r) for r in metadata.requires("assistant") or []]
    environment = {"extra": ""}
    missing = []
    for requirement in declared:
        extra = next((m for m in re.findall(r'extra == "([^"]+)"', str(requirement.marker))), "")
        environment["extra"] = extra
        if requirement.marker is not None and not Marker(str(requirement.marker)).evaluate(environment):
            continue
        name = canonicalize_name(requirement.name)
        if name not in pins or pins[name] not in requirement.specifier:
            missing.append(str(requirement))
    assert not missing, f"declared in pyproject.toml but not satisfied by the lock: {missing}"


def test_the_installed_command_starts() -> None:
    """The `assistant` script pip made from pyproject's entry point (the README runs it, not python -m)."""
    script = Path(sys.executable).with_name("assistant")
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("assistant ")
