"""GGUF models in-process through llama-cpp-python (the optional ``llamacpp`` extra)."""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

from assistant import native_logs
from assistant.brain.llm import prompts
from assistant.brain.llm.base import ChatMessage, Completion, LlmError, TokenProbabilities
from assistant.brain.llm.weights import bundled, bundled_gguf
from assistant.config.llm import LlmConfig

log = logging.getLogger(__name__)


def resolve_gguf(model: str, cache_dir: str | None) -> Path:
    if bundled(model) is not None:
        return bundled_gguf(model, cache_dir)
    path = Path(model).expanduser()
    if path.is_dir():
        ggufs = sorted(path.glob("*.gguf"))
        if not ggufs:
            raise LlmError(f"the folder {path} has no .gguf file for the llamacpp backend")
        path = ggufs[0]
    if not path.is_file():
        raise LlmError(f"the GGUF model {path} does not exist (llm.model)")
    return path


class LlamaCppLLM:
    """One loaded GGUF model; requests are served one at a time (llama.cpp contexts are not thread-safe)."""

    supports_images = False  # a multimodal projector (mmproj) is not wired up yet
    supports_native_tools = False  # offered through the JSON protocol instead

    def __init__(self, config: LlmConfig) -> None:
        try:
            from llama_cpp import Llama
        except ImportError:
            raise LlmError(
                "the llamacpp backend needs llama-cpp-python; run `pip install 'assistant[llamacpp]'`"
            ) from None
        native_logs.route_llama_cpp()
        self._config = config
        self.path = resolve_gguf(config.model, config.cache_dir)
        self.name = config.model
        threads = config.threads or os.cpu_count() or 1
        try:
            self._llama: Any = Llama(
                model_path=str(self.path),
                n_ctx=config.context_tokens,
                n_threads=threads,
                n_threads_batch=threads,
                verbose=False,
                chat_format=None,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise LlmError(f"llama.cpp could not load {self.path}: {exc}") from None
        self._lock = threading.Lock()
        template = self._llama.metadata.get("tokenizer.chat_template")
        entry = bundled(config.model)
        style: str = config.prompt_style
        if style == "auto":
            style = entry.prompt_style if entry else ("chat" if template or config.chat_template else "completion")
        self.prompt_style = style
        log.info("llama.cpp loaded %s (%s prompt, %d threads)", self.path.name, style, threads)

    def stream(self, messages: list[ChatMessage], *, image: bytes | None = None, max_tokens: int,
               tools: list[dict[str, Any]] | None = None) -> Completion:
        if image is not None:
            log.warning("the llamacpp backend cannot take images yet; answering from the text alone")
        completion = Completion(self.name)
        names = {t["function"]["name"] for t in prompts.normalise_tools(tools)}
        if tools:
            messages = prompts.with_tool_instructions(messages, tools)
        cancel = threading.Event()
        completion.on_abort(cancel.set)
        if tools and self._config.tools in ("auto", "json"):
            deltas = self._constrained(messages, max_tokens, completion, cancel, tools)
        else:
            deltas = self._generate(messages, max_tokens, completion, cancel)
        return completion.attach(prompts.split_json_tool(deltas, completion, names) if tools else deltas)

    def _constrained(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        completion: Completion,
        cancel: threading.Event,
        tools: list[dict[str, Any]],
    ) -> Iterator[str]:
        """Speech runs free; a reply that starts as JSON is regenerated under a grammar that only admits a
        well-formed call of a configured command. (A grammar on every turn costs too much: each token is
        checked against the whole vocabulary, 262k entries for Gemma.)"""
        free = self._generate(messages, max_tokens, completion, cancel)
        head = ""
        for delta in free:
            head += delta
            if head.strip():
                break
        if not head.lstrip().startswith("{"):
            if head:
                yield head
            yield from free
            return
        free.close()
        completion.completion_tokens = 0
        yield from self._generate(messages, max_tokens, completion, cancel, tool_grammar(tools, allow_speech=False))

    def _generate(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        completion: Completion,
        cancel: threading.Event,
        grammar: Any = None,
    ) -> Generator[str, None, None]:
        config = self._config
        with self._lock:
            if self.prompt_style == "completion":
                prompt = prompts.completion_prompt(messages, config.few_shot)
                completion.prompt_tokens = len(self._llama.tokenize(prompt.encode("utf-8")))
                chunks: Iterator[Any] = self._llama.create_completion(
                    prompt,
                    max_tokens=max_tokens,
                    temperature=config.temperature,
                    top_p=config.top_p,
                    stop=prompts.COMPLETION_STOP,
                    stream=True,
                    grammar=grammar,
                    logits_processor=self._probabilities(completion),
                )
                for chunk in chunks:
                    if cancel.is_set():  # a timed-out turn: stop spending CPU on it
                        break
                    choice = chunk["choices"][0]
                    text = choice.get("text") or ""
                    if choice.get("finish_reason") is None:
                        completion.completion_tokens += 1  # one token per chunk; the last only says why it stopped
                    if text:
                        yield text
                return
            chat = [{"role": m.role, "content": m.content} for m in messages]
            stream: Iterator[Any] = self._llama.create_chat_completion(
                messages=chat,
                max_tokens=max_tokens,
                temperature=config.temperature,
                top_p=config.top_p,
                stream=True,
                grammar=grammar,
                logits_processor=self._probabilities(completion),
            )
            for chunk in stream:
                if cancel.is_set():
                    break
                delta = chunk["choices"][0].get("delta", {})
                text = delta.get("content") or ""
                if text:
                    completion.completion_tokens += 1
                    yield text

    def _probabilities(self, completion: Completion) -> Any:
        """A logits processor that records each chosen token's probability (only when the brain uses them:
        a softmax over Gemma's 262k-token vocabulary costs about a millisecond a token)."""
        if self._config.min_confidence <= 0:
            return None
        from llama_cpp import LogitsProcessorList

        probabilities = TokenProbabilities(completion, lambda token: self._llama.detokenize([token]).decode(
            "utf-8", "replace"))

        def record(input_ids: Any, scores: Any) -> Any:
            probabilities.observe(int(input_ids[-1]), scores)
            return scores

        return LogitsProcessorList([record])

    def close(self) -> None:
        close = getattr(self._llama, "close", None)
        if close is not None:
            close()



def tool_grammar(tools: list[dict[str, Any]], *, allow_speech: bool = True) -> Any:
    """A GBNF grammar: either a one-line spoken reply, or a JSON call of one configured command whose arguments
    match that command's schema. The model cannot produce a call to anything else, nor malformed JSON."""
    from llama_cpp.llama_grammar import LlamaGrammar, json_schema_to_gbnf

    calls = [
        {
            "type": "object",
            "properties": {"tool": {"const": t["function"]["name"]}, "arguments": t["function"]["parameters"]},
            "required": ["tool", "arguments"],
            "additionalProperties": False,
        }
        for t in prompts.normalise_tools(tools)
    ]
    gbnf = json_schema_to_gbnf(json.dumps({"oneOf": calls} if len(calls) > 1 else calls[0]))
    gbnf = re.sub(r"^root ::=", "tool-call ::=", gbnf, flags=re.MULTILINE)
    # Compact JSON only: a newline would hit the completion prompt's "\n" stop string mid-call.
    gbnf = re.sub(r"^space ::=.*$", 'space ::= " "?', gbnf, flags=re.MULTILINE)
    root = 'root ::= " "? tool-call' + (' | spoken-reply\nspoken-reply ::= [^{\\n] [^\\n]*' if allow_speech else "")
    return LlamaGrammar.from_string(root + "\n" + gbnf, verbose=False)
