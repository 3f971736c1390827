"""Config models for the LLM brain, the camera and conversation memory (root keys ``llm``, ``camera``, ``memory``).

Pydantic only: nothing heavy is imported here, so ``config check`` stays fast.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from assistant.config.base import StrictModel

DEFAULT_SYSTEM_PROMPT = (
    "You are {persona}, a helpful voice assistant running on the user's own computer. "
    "Answer in one or two short spoken sentences: no lists, no markdown, no emoji."
)

# A base (not instruction-tuned) model continues text; these examples teach it the shape of a short answer.
DEFAULT_FEW_SHOT: list[tuple[str, str]] = [
    ("What is the capital of France?", "The capital of France is Paris."),
    ("What does water turn into when it freezes?", "Water freezes into ice."),
    ("Why is the sky blue?", "Sunlight scatters off the air, and blue light scatters the most, so the sky looks blue."),
]


class LlmConfig(StrictModel):
    backend: Literal["auto", "llamacpp", "transformers", "openai", "none"] = Field(
        default="auto", description="auto: llamacpp if llama-cpp-python is installed, else transformers; none: no LLM"
    )
    model: str = Field(
        default="smollm2-135m",
        description="bundled name (smollm2-135m, gemma3-270m), a .gguf file, a model folder, a hub id, or the "
                    "server's model name",
    )
    base_url: str = Field(
        default="http://127.0.0.1:11434/v1",
        description="openai backend: the server's base URL, up to and including /v1",
    )
    api_key_env: str | None = Field(
        default="OPENAI_API_KEY",
        description="openai backend: environment variable holding the API key (unset: no key sent)",
    )
    prompt_style: Literal["auto", "chat", "completion"] = Field(
        default="auto", description="chat template, or a few-shot text prompt for base models; auto picks per model"
    )
    system_prompt: str = Field(default=DEFAULT_SYSTEM_PROMPT, description="system prompt; {persona} is replaced")
    persona: str = Field(default="Assistant", description="the assistant's name, used in the prompt")
    few_shot: list[tuple[str, str]] = Field(
        default_factory=lambda: list(DEFAULT_FEW_SHOT),
        description="(question, answer) examples for completion-style prompts",
    )
    max_tokens: int = Field(default=64, ge=1, le=4096, description="most tokens generated per reply")
    min_confidence: float = Field(
        default=0.25, ge=0.0, le=1.0,
        description="say 'I'm not sure' when the model gave the first new word of its answer less than this "
                    "probability (llamacpp and transformers backends; 0 turns it off)",
    )
    temperature: float = Field(
        default=0.0, ge=0.0, le=2.0, description="sampling temperature; 0 is greedy (steadiest for small models)"
    )
    top_p: float = Field(default=0.9, gt=0.0, le=1.0, description="nucleus sampling threshold")
    timeout_s: float = Field(
        default=20.0, gt=0, le=600, description="a turn taking longer than this is cut off with a short apology"
    )
    first_token_timeout_s: float = Field(
        default=15.0, gt=0, le=600, description="give up if the first text has not arrived after this long"
    )
    connect_timeout_s: float = Field(default=3.0, gt=0, le=120, description="openai backend: seconds to connect")
    retries: int = Field(
        default=1, ge=0, le=5, description="openai backend: retries on connection errors before any text"
    )
    threads: int = Field(default=0, ge=0, le=256, description="CPU threads for local backends; 0 uses all cores")
    context_tokens: int = Field(default=2048, ge=256, le=131072, description="llamacpp: context window size")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        default="float32", description="transformers: weight dtype (float32 is the fast choice on most CPUs)"
    )
    device: str = Field(default="cpu", description="transformers: torch device (cpu, cuda, cuda:0, mps)")
    chat_template: str | None = Field(default=None, description="Jinja chat template overriding the model's own")
    tools: Literal["auto", "native", "json", "off"] = Field(
        default="auto",
        description="offer configured commands to the model: native function calling, a JSON protocol, or not",
    )
    image_max_side: int = Field(
        default=512, ge=64, le=4096, description="camera frames are downscaled so their longer side is at most this"
    )
    cache_dir: str | None = Field(default=None, description="where converted bundled models go (default: XDG cache)")
    apology: str = Field(
        default="Sorry, I can't answer that right now.", description="spoken when the model fails or is unreachable"
    )
    timeout_apology: str = Field(default="Sorry, that took too long.", description="spoken when a turn times out")


CameraSource = str | int | None


class CameraConfig(StrictModel):
    source: CameraSource = Field(
        default=None,
        description="none, an OpenCV device (index or /dev/video path), a snapshot URL, an image file or a folder",
    )
    attach: Literal["never", "always", "on_request"] = Field(
        default="on_request",
        description="when a frame goes with the question; on_request: when the words refer to seeing",
    )
    triggers: list[str] = Field(
        default_factory=lambda: [
            "see", "look", "looking", "this", "holding", "in front of", "picture", "camera", "show", "wearing",
            "color", "colour", "read this", "what is that", "what's that",
        ],
        description="words or phrases that make on_request attach a frame",
    )
    timeout_s: float = Field(default=3.0, gt=0, le=60, description="seconds a capture may take before it is abandoned")
    warmup_frames: int = Field(
        default=3, ge=0, le=60, description="OpenCV: frames read and dropped so exposure settles"
    )
    jpeg_quality: int = Field(default=85, ge=10, le=100, description="quality of the JPEG sent to the model")
    vision: bool = Field(
        default=True, description="read text and count faces in frames ourselves (answers and a text-only LLM's facts)"
    )
    vision_max_side: int = Field(
        default=1280, ge=160, le=4096, description="frames are scaled down to this longer side before being read"
    )
    min_text_confidence: float = Field(
        default=0.6, ge=0.0, le=1.0, description="text read with less confidence than this is left out"
    )
    min_face_confidence: float = Field(
        default=0.7, ge=0.0, le=1.0, description="faces found with less confidence than this are not counted"
    )
    read_part_chars: int = Field(
        default=300, ge=40, le=5000, description="text longer than this is read aloud in parts ('read on' for more)"
    )

    @field_validator("source", mode="before")
    @classmethod
    def _none_words(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in {"", "none", "off", "null"}:
            return None
        return value


class MemoryConfig(StrictModel):
    enabled: bool = Field(default=True, description="keep recent turns as context for the next question")
    max_turns: int = Field(default=6, ge=0, le=200, description="most question/answer pairs kept per conversation")
    max_tokens: int = Field(
        default=600, ge=0, le=100000, description="token budget for remembered turns (oldest go first)"
    )
    path: str | None = Field(default=None, description="folder where conversations are saved (default: XDG state dir)")
    conversation: str = Field(default="default", description="name of the conversation the daemon talks in")
    idle_reset_s: float | None = Field(
        default=None, gt=0, description="start a new conversation after this many seconds of silence (null: never)"
    )
    forget_last: list[str] = Field(
        default_factory=lambda: ["forget that", "never mind that", "scratch that"],
        description="phrases that drop the last exchange",
    )
    forget_all: list[str] = Field(
        default_factory=lambda: [
            "new conversation", "forget everything", "start over", "reset the conversation", "start a new conversation"
        ],
        description="phrases that clear the whole conversation",
    )
