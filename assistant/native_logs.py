"""Native libraries' own log output, kept off the user's terminal.

llama.cpp, CTranslate2 and onnxruntime write straight to stderr from C/C++. llama.cpp takes a callback, so
its lines come through our logging at DEBUG (logger ``assistant.native.llama_cpp``). CTranslate2 and
onnxruntime only take a level: they are quiet unless our logging is at DEBUG, when their warnings show too.
Each function is idempotent and imports its library only when called (from the backend that loads it).
"""

from __future__ import annotations

import ctypes
import logging
from typing import Any

log = logging.getLogger("assistant.native")

# ggml_log_level: NONE, INFO, WARN, ERROR, DEBUG, CONT (continues the previous line)
_GGML_CONTINUE = 5
_llama_callback: Any = None  # the ctypes callback must outlive every call llama.cpp makes through it


def _debugging() -> bool:
    return log.isEnabledFor(logging.DEBUG)


def route_llama_cpp() -> None:
    """Send llama.cpp's and ggml's log lines to our logging at DEBUG, for the whole process.

    llama-cpp-python's own callback prints some lines to stderr even with verbose=False (those of level
    NONE, such as "llama_kv_cache_iswa: ..."); ours replaces it.
    """
    global _llama_callback
    if _llama_callback is not None:
        return
    import llama_cpp

    native = logging.getLogger("assistant.native.llama_cpp")
    pending: list[str] = []

    def flush() -> None:
        if pending:
            native.debug("%s", "".join(pending).rstrip())
            pending.clear()

    def forward(level: int, text: bytes | None, _user_data: Any) -> None:
        if level != _GGML_CONTINUE:
            flush()
        line = (text or b"").decode("utf-8", "replace")
        pending.append(line)
        if line.endswith("\n"):
            flush()

    _llama_callback = llama_cpp.llama_log_callback(forward)
    llama_cpp.llama_log_set(_llama_callback, ctypes.c_void_p(0))


def quiet_ctranslate2() -> None:
    """CTranslate2 (under faster-whisper) warns on stderr, e.g. about compute types; failures raise anyway."""
    import ctranslate2

    ctranslate2.set_log_level(logging.WARNING if _debugging() else logging.CRITICAL)


def quiet_onnxruntime() -> None:
    """onnxruntime's default logger (Silero, Smart Turn, Piper) warns on stderr; failures raise anyway."""
    import onnxruntime

    onnxruntime.set_default_logger_severity(2 if _debugging() else 4)  # 2: warning, 4: fatal
