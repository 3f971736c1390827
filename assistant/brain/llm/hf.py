"""Local models through transformers: text models (AutoModelForCausalLM) and vision-language models
(AutoProcessor + AutoModelForImageTextToText: SmolVLM/Idefics3, Qwen2-VL/2.5-VL, LLaVA-style folders).

Generation runs in a worker thread feeding a TextIteratorStreamer; a stopping criterion lets the consumer
cancel it (timeout, barge-in) so the CPU is free for the next turn.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant.brain.camera import decode_rgb
from assistant.brain.llm import prompts
from assistant.brain.llm.base import ChatMessage, Completion, LlmError, TokenProbabilities
from assistant.brain.llm.weights import bundled, bundled_hf_folder

log = logging.getLogger(__name__)

WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)


def resolve_folder(model: str, cache_dir: str | None) -> str:
    """A local folder (checked for the files transformers needs), a converted bundled model, or a hub id."""
    if bundled(model) is not None:
        return str(bundled_hf_folder(model, cache_dir))
    path = Path(model).expanduser()
    looks_local = path.exists() or model.startswith((".", "/", "~")) or model.count("/") > 1
    if not looks_local:
        return model  # a hub id: transformers fetches it (or finds it in the HF cache when offline)
    if not path.is_dir():
        raise LlmError(f"the model folder {path} does not exist (llm.model)")
    if not (path / "config.json").is_file():
        raise LlmError(f"the model folder {path} is missing config.json")
    if not any((path / name).is_file() for name in WEIGHT_FILES):
        raise LlmError(f"the model folder {path} has no weights (model.safetensors or pytorch_model.bin)")
    return str(path)


class TransformersLLM:
    """A transformers model loaded once; one generation at a time."""

    supports_native_tools = False  # chat templates' tool formats differ per model: the JSON protocol is used

    def __init__(self, config: Any) -> None:
        import torch
        from transformers import AutoConfig

        self._config = config
        self.name = config.model
        self.folder = resolve_folder(config.model, config.cache_dir)
        if config.threads:
            torch.set_num_threads(config.threads)
        dtype: Any = "auto" if config.dtype == "auto" else getattr(torch, config.dtype)
        try:
            model_config = AutoConfig.from_pretrained(self.folder)
            self.supports_images = hasattr(model_config, "vision_config")
            if self.supports_images:
                from transformers import AutoModelForImageTextToText, AutoProcessor

                self.processor: Any = AutoProcessor.from_pretrained(self.folder)
                self.tokenizer: Any = self.processor.tokenizer
                self.model: Any = AutoModelForImageTextToText.from_pretrained(self.folder, dtype=dtype)
            else:
                from transformers import AutoModelForCausalLM, AutoTokenizer

                self.processor = None
                self.tokenizer = AutoTokenizer.from_pretrained(self.folder)
                self.model = AutoModelForCausalLM.from_pretrained(self.folder, dtype=dtype)
        except (OSError, ValueError, KeyError) as exc:
            raise LlmError(f"transformers could not load {self.folder}: {_first_line(exc)}") from None
        self.model.to(config.device)
        self.model.eval()
        if config.chat_template:
            self._template_owner().chat_template = config.chat_template
        style = config.prompt_style
        if style == "auto":
            entry = bundled(config.model)
            has_template = bool(getattr(self._template_owner(), "chat_template", None))
            style = entry.prompt_style if entry else ("chat" if has_template else "completion")
        if style == "chat" and not getattr(self._template_owner(), "chat_template", None):
            raise LlmError(f"{self.folder} has no chat template; set llm.chat_template or llm.prompt_style: completion")
        self.prompt_style = style
        self._lock = threading.Lock()
        log.info("transformers loaded %s (%s, %s prompt)", self.folder, "vision" if self.supports_images else "text",
                 style)

    def _template_owner(self) -> Any:
        return self.processor if self.processor is not None else self.tokenizer

    def prepare_inputs(self, messages: list[ChatMessage], image: bytes | None = None) -> Any:
        """Model inputs (input_ids, attention_mask, and pixel_values when an image goes along)."""
        picture = decode_rgb(image) if image is not None and self.supports_images else None
        if self.prompt_style == "completion":
            text = prompts.completion_prompt(messages, self._config.few_shot)
            if picture is not None:
                # Completion prompts for VLMs still need the image placeholder the processor expands.
                text = getattr(self.processor, "image_token", "<image>") + text
        else:
            chat: list[dict[str, Any]] = []
            last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=-1)
            for i, message in enumerate(messages):
                if self.processor is None:
                    chat.append({"role": message.role, "content": message.content})
                    continue
                content: list[dict[str, Any]] = [{"type": "text", "text": message.content}]
                if picture is not None and i == last_user:
                    content.insert(0, {"type": "image"})
                chat.append({"role": message.role, "content": content})
            text = self._template_owner().apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
        if self.processor is not None:
            images = [picture] if picture is not None else None
            inputs = self.processor(text=text, images=images, return_tensors="pt")
        else:
            inputs = self.tokenizer(text, return_tensors="pt", add_special_tokens=self.prompt_style == "completion")
        return inputs.to(self.model.device)

    def stream(self, messages: list[ChatMessage], *, image: bytes | None = None, max_tokens: int,
               tools: list[dict[str, Any]] | None = None) -> Completion:
        if image is not None and not self.supports_images:
            log.warning("%s is a text-only model; answering from the text alone", self.name)
            image = None
        if tools:
            messages = prompts.with_tool_instructions(messages, tools)
        completion = Completion(self.name)
        inputs = self.prepare_inputs(messages, image)  # raises ImageError for a corrupt image, before any thread
        completion.prompt_tokens = int(inputs["input_ids"].shape[-1])
        completion.image_used = "pixel_values" in inputs
        stops = prompts.COMPLETION_STOP if self.prompt_style == "completion" else []
        cancel = threading.Event()
        completion.on_abort(cancel.set)
        deltas = self._generate(inputs, max_tokens, completion, stops, cancel)
        names = {t["function"]["name"] for t in prompts.normalise_tools(tools)}
        return completion.attach(prompts.split_json_tool(deltas, completion, names) if tools else deltas)

    def _generate(
        self, inputs: Any, max_tokens: int, completion: Completion, stops: list[str], cancel: threading.Event
    ) -> Iterator[str]:
        from transformers import (
            LogitsProcessor,
            LogitsProcessorList,
            StoppingCriteria,
            StoppingCriteriaList,
            TextIteratorStreamer,
        )

        class Cancelled(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
                return cancel.is_set()

        class CountingStreamer(TextIteratorStreamer):
            def put(self, value: Any) -> None:
                if not (self.skip_prompt and self.next_tokens_are_prompt):
                    completion.completion_tokens += int(value.numel())
                super().put(value)

        streamer = CountingStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        failure: list[BaseException] = []
        config = self._config
        sampling: dict[str, Any] = (
            {"do_sample": True, "temperature": config.temperature, "top_p": config.top_p}
            if config.temperature > 0
            else {"do_sample": False}
        )

        extra: dict[str, Any] = {}
        if config.min_confidence > 0:  # each token's probability, for the brain's "I'm not sure"
            probabilities = TokenProbabilities(completion, lambda token: self.tokenizer.decode([token]))

            class Record(LogitsProcessor):
                def __call__(self, input_ids: Any, scores: Any) -> Any:
                    probabilities.observe(int(input_ids[0, -1]), scores[0].float().cpu().numpy())
                    return scores

            extra["logits_processor"] = LogitsProcessorList([Record()])

        def work() -> None:
            try:
                self.model.generate(
                    **inputs,
                    max_new_tokens=max_tokens,
                    streamer=streamer,
                    stopping_criteria=StoppingCriteriaList([Cancelled()]),
                    **extra,
                    pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
                    **sampling,
                )
            except BaseException as exc:
                failure.append(exc)
                streamer.end()

        with self._lock:
            worker = threading.Thread(target=work, name="llm-generate", daemon=True)
            worker.start()
            try:
                yield from prompts.apply_stops(iter(streamer), stops)
            finally:
                # The consumer stopped early or a stop string was seen: stop generating. The streamer's queue is
                # unbounded, so generate() never blocks on it and the join is at most one token long.
                cancel.set()
                worker.join()
        if failure:
            raise LlmError(f"generation failed: {_first_line(failure[0])}")

    def close(self) -> None:
        self.model = None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
