"""Build the configured LLM backend; the only place that names concrete backends."""

from __future__ import annotations

import importlib.util
import logging

from assistant.brain.llm.base import LLM, LlmError
from assistant.brain.llm.hf import TransformersLLM
from assistant.brain.llm.llamacpp import LlamaCppLLM
from assistant.brain.llm.openai_compat import OpenAICompatLLM
from assistant.brain.llm.weights import bundled
from assistant.config.llm import LlmConfig

log = logging.getLogger(__name__)


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def effective_backend(config: LlmConfig) -> str:
    """'auto' becomes llamacpp when llama-cpp-python is installed (fast on CPU), else transformers; and
    'none' (commands and skills only) when neither is, or when the bundled model's package is missing,
    so a minimal install answers what it can instead of apologising every turn."""
    if config.backend != "auto":
        return config.backend
    package = bundled(config.model)
    if package is not None and not _installed(package.package):
        log.info("no LLM: the bundled %s model is not installed (%s)", config.model, package.install)
        return "none"
    if _installed("llama_cpp"):
        return "llamacpp"
    if _installed("transformers") and _installed("torch"):
        return "transformers"
    log.info("no LLM: neither llama-cpp-python nor transformers is installed (pip install 'assistant[llamacpp]')")
    return "none"


def build_llm(config: LlmConfig) -> LLM | None:
    """The loaded backend, None for `backend: none`; LlmError (one sentence) when it cannot load."""
    backend = effective_backend(config)
    if backend == "none":
        return None
    if backend == "llamacpp":
        return LlamaCppLLM(config)
    if backend == "transformers":
        try:
            return TransformersLLM(config)
        except ImportError as exc:
            raise LlmError(
                f"the transformers backend needs the llm extra ({exc}); run `pip install 'assistant[llm]'`"
            ) from None
    if backend == "openai":
        return OpenAICompatLLM(config)
    raise LlmError(f"unknown llm.backend {backend!r}")
