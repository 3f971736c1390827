"""systemd/system/assistant-wyoming.service: accepted by systemd-analyze, hardened at least as the daemon's
system unit (less the sound devices it does not need), and starting the command that exists."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from assistant.cli.main import build_parser
from support.paths import REPO

UNIT = REPO / "systemd" / "system" / "assistant-wyoming.service"
DAEMON_UNIT = REPO / "systemd" / "system" / "assistant.service"
ANALYZE = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"
EXEC = "/opt/assistant/venv/bin/assistant"


def directives(unit: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for raw in unit.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


@pytest.fixture
def unit_copy(tmp_path: Path) -> Path:
    fake = tmp_path / "bin" / "assistant"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    copy = tmp_path / "units" / UNIT.name
    copy.parent.mkdir()
    copy.write_text(UNIT.read_text().replace(EXEC, str(fake)))
    return copy


def _analyze(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ANALYZE, *args], capture_output=True, text=True, cwd=cwd, timeout=120,
                          env=dict(os.environ, SYSTEMD_LOG_COLOR="0"))


def test_the_unit_verifies_cleanly_and_a_mistake_would_show(unit_copy: Path, tmp_path: Path) -> None:
    result = _analyze(["verify", str(unit_copy)], tmp_path)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
    unit_copy.write_text(unit_copy.read_text().replace("ProtectClock=yes", "ProtectClok=yes"))
    assert "ProtectClok" in _analyze(["verify", str(unit_copy)], tmp_path).stderr


def test_security_exposure_is_low(unit_copy: Path, tmp_path: Path) -> None:
    result = _analyze(["security", "--offline=yes", "--threshold=25", str(unit_copy)], tmp_path)
    assert "Overall exposure level" in result.stdout, result.stderr
    assert result.returncode == 0, result.stdout[-400:]


def test_hardened_as_the_daemon_unit_without_sound_devices() -> None:
    ours, daemon = directives(UNIT), directives(DAEMON_UNIT)
    sound_only = {"DeviceAllow", "SupplementaryGroups", "RestrictRealtime", "ProtectHome"}
    for key in ("NoNewPrivileges", "CapabilityBoundingSet", "ProtectSystem", "PrivateTmp", "ProtectKernelTunables",
                "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups", "ProtectClock",
                "ProtectHostname", "ProtectProc", "RestrictNamespaces", "RestrictSUIDSGID", "LockPersonality",
                "SystemCallArchitectures", "SystemCallFilter", "DevicePolicy", "User", "Type", "NotifyAccess",
                "RestartPreventExitStatus"):
        assert key not in sound_only and ours.get(key) == daemon.get(key), key
    assert "DeviceAllow" not in ours and ours["PrivateDevices"] == ["yes"] and ours["ProtectHome"] == ["yes"]


def test_its_command_line_parses() -> None:
    argv = directives(UNIT)["ExecStart"][0].split()
    assert argv[0] == EXEC
    args = build_parser().parse_args(argv[1:])
    assert args.serve_command == "wyoming" and args.uri == "tcp://0.0.0.0:10300"
