"""The systemd units: accepted by systemd-analyze, hardened, and in agreement with the daemon's defaults."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from assistant.config.schema import EX_CONFIG
from assistant.config.service import control_socket_path, history_candidates
from support.paths import REPO

SYSTEMD = REPO / "systemd"
USER_UNIT = SYSTEMD / "assistant.service"
SYSTEM_UNIT = SYSTEMD / "system" / "assistant.service"
SYSUSERS = SYSTEMD / "sysusers.d" / "assistant.conf"
ANALYZE = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"  # Debian package: systemd


def directives(unit: Path) -> dict[str, list[str]]:
    """KEY -> values in order (systemd allows repeated keys), across all sections."""
    found: dict[str, list[str]] = {}
    for raw in unit.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        found.setdefault(key.strip(), []).append(value.strip())
    return found


def one(unit: Path, key: str) -> str:
    values = directives(unit)[key]
    assert len(values) == 1, f"{key} appears {len(values)} times in {unit.name}"
    return values[0]


def fake_executable(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)


def analyze(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ANALYZE, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


@pytest.fixture
def user_env(tmp_path: Path) -> dict[str, str]:
    """A home where %h/.local/bin/assistant exists, and a runtime dir the user manager needs."""
    home = tmp_path / "home"
    fake_executable(home / ".local" / "bin" / "assistant")
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime),
            "SYSTEMD_LOG_COLOR": "0"}


@pytest.fixture
def system_copy(tmp_path: Path) -> Path:
    """The system unit with ExecStart pointing at an executable that exists here (verify checks it)."""
    text = SYSTEM_UNIT.read_text()
    assert "ExecStart=/opt/assistant/venv/bin/assistant run" in text
    fake_executable(tmp_path / "bin" / "assistant")
    copy = tmp_path / "units" / "assistant.service"
    copy.parent.mkdir()
    copy.write_text(text.replace("/opt/assistant/venv/bin/assistant", str(tmp_path / "bin" / "assistant")))
    return copy


# -- systemd-analyze ------------------------------------------------------------------------------------
def test_user_unit_verifies_cleanly(user_env: dict[str, str], tmp_path: Path) -> None:
    result = analyze(["verify", "--user", str(USER_UNIT)], user_env, tmp_path)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_system_unit_verifies_cleanly(system_copy: Path, tmp_path: Path) -> None:
    result = analyze(["verify", str(system_copy)], dict(os.environ, SYSTEMD_LOG_COLOR="0"), tmp_path)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_verify_does_catch_mistakes(system_copy: Path, tmp_path: Path) -> None:
    # Make sure the two tests above could fail: a misspelt directive is reported.
    system_copy.write_text(system_copy.read_text().replace("ProtectClock=yes", "ProtectClok=yes"))
    result = analyze(["verify", str(system_copy)], dict(os.environ, SYSTEMD_LOG_COLOR="0"), tmp_path)
    assert "ProtectClok" in result.stderr


@pytest.mark.parametrize(("which", "threshold"), [("system", 25), ("user", 50)])
def test_security_exposure(which: str, threshold: int, system_copy: Path, user_env: dict[str, str],
                           tmp_path: Path) -> None:
    # systemd-analyze scores 0 (locked down) to 10 (exposed); --threshold is in tenths.
    if which == "system":
        args, env = ["security", "--offline=yes", f"--threshold={threshold}", str(system_copy)], dict(os.environ)
    else:
        args, env = ["security", "--user", "--offline=yes", f"--threshold={threshold}", str(USER_UNIT)], user_env
    result = analyze(args, env, tmp_path)
    assert "Overall exposure level" in result.stdout, result.stderr
    assert result.returncode == 0, result.stdout[-400:]


# -- what the units promise -----------------------------------------------------------------------------
@pytest.mark.parametrize("unit", [USER_UNIT, SYSTEM_UNIT], ids=["user", "system"])
def test_lifecycle_settings(unit: Path) -> None:
    assert one(unit, "Type") == "notify"
    assert one(unit, "NotifyAccess") == "main"
    assert one(unit, "Restart") == "on-failure"
    assert one(unit, "RestartPreventExitStatus") == str(EX_CONFIG)
    assert one(unit, "ExecReload") == "/bin/kill -HUP $MAINPID"
    assert int(one(unit, "WatchdogSec")) >= 10
    assert int(one(unit, "TimeoutStartSec")) >= 60  # models load before READY=1
    assert one(unit, "RuntimeDirectory") == "assistant"
    assert one(unit, "StartLimitIntervalSec") == "0"


@pytest.mark.parametrize("unit", [USER_UNIT, SYSTEM_UNIT], ids=["user", "system"])
def test_hardening_that_still_allows_audio(unit: Path) -> None:
    d = directives(unit)
    for key, value in [("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("ProtectHome", "read-only"),
                       ("PrivateTmp", "yes"), ("LockPersonality", "yes"), ("RestrictNamespaces", "yes"),
                       ("SystemCallArchitectures", "native")]:
        assert d.get(key) == [value], key
    assert d["RestrictAddressFamilies"] == ["AF_UNIX AF_INET AF_INET6"]
    # oneDNN (CTranslate2, torch) needs W+X pages: see systemd/mdwe_check.py and README.md.
    assert "MemoryDenyWriteExecute" not in d
    assert "PrivateDevices" not in d  # /dev/snd must stay reachable for direct ALSA
    assert "PrivateNetwork" not in d  # an LLM server over HTTP must stay reachable


def test_user_unit_specifics() -> None:
    d = directives(USER_UNIT)
    assert d["ExecStart"] == ["%h/.local/bin/assistant run"]
    assert "User" not in d
    # the folders ReadWritePaths names are the ones the daemon and the CLI use by default
    assert "%h/.local/state/assistant" in d["ReadWritePaths"][0]
    assert d["WantedBy"] == ["default.target"]


def test_system_unit_specifics() -> None:
    d = directives(SYSTEM_UNIT)
    assert d["User"] == ["assistant"] and d["SupplementaryGroups"] == ["audio"]
    assert d["StateDirectory"] == ["assistant"] and d["CacheDirectory"] == ["assistant"]
    assert d["DeviceAllow"] == ["char-alsa rw"] and d["DevicePolicy"] == ["closed"]
    assert d["CapabilityBoundingSet"] == [""]
    assert "-/etc/assistant/environment" in d["EnvironmentFile"]
    assert d["WantedBy"] == ["multi-user.target"]


def test_daemon_defaults_follow_the_unit_directories(monkeypatch: pytest.MonkeyPatch) -> None:
    # What systemd sets for RuntimeDirectory=/StateDirectory=assistant in the system unit.
    monkeypatch.delenv("ASSISTANT_CONTROL_SOCKET", raising=False)
    monkeypatch.setenv("RUNTIME_DIRECTORY", "/run/assistant")
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/assistant")
    assert control_socket_path() == Path("/run/assistant/control.sock")
    assert history_candidates()[0] == Path("/var/lib/assistant/history.db")
    # The user unit: $XDG_RUNTIME_DIR/assistant, and no StateDirectory (the XDG state folder instead).
    monkeypatch.setenv("RUNTIME_DIRECTORY", "/run/user/1000/assistant")
    monkeypatch.delenv("STATE_DIRECTORY")
    monkeypatch.setenv("XDG_STATE_HOME", "/home/me/.local/state")
    assert control_socket_path() == Path("/run/user/1000/assistant/control.sock")
    assert history_candidates()[0] == Path("/home/me/.local/state/assistant/history.db")


def test_sysusers_creates_the_service_user_in_the_audio_group(tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (etc / "group").write_text("root:x:0:\naudio:x:29:\n")
    sysusers = shutil.which("systemd-sysusers") or "/usr/bin/systemd-sysusers"
    result = subprocess.run([sysusers, f"--root={tmp_path}", str(SYSUSERS)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    [user] = [line for line in (etc / "passwd").read_text().splitlines() if line.startswith("assistant:")]
    assert user.split(":")[5:] == ["/var/lib/assistant", "/usr/sbin/nologin"]
    assert "audio:x:29:assistant" in (etc / "group").read_text()
