"""Test helpers for the LLM brain: a tiny random-weight SmolVLM (Idefics3) folder built on the fly.

No real vision-language model ships in a package, so the image path is exercised with the real
AutoProcessor / AutoModelForImageTextToText code on a model of the same architecture with random weights:
its words are gibberish, but the plumbing (chat template, image tokens, pixel_values) is exactly SmolVLM's.
"""

from __future__ import annotations

import io
import socket
from pathlib import Path

# SmolVLM's chat template, shortened: images are placeholders the processor expands into image tokens.
CHAT_TEMPLATE = (
    "<|im_start|>{% for message in messages %}{{ message['role'] | capitalize }}"
    "{% if message['content'][0]['type'] == 'image' %}{{ ':' }}{% else %}{{ ': ' }}{% endif %}"
    "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{ line['text'] }}"
    "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n"
    "{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)

SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<end_of_utterance>",
    "<image>",
    "<fake_token_around_image>",
    "<global-img>",
    *[f"<row_{r}_col_{c}>" for r in range(1, 7) for c in range(1, 7)],
]

_CORPUS = [
    "User: What do you see in this picture? Assistant: I see a red square on a white background.",
    "User: What am I holding? Assistant: You are holding a blue cup.",
    "The quick brown fox jumps over the lazy dog. Hello there, how are you today?",
    "System: You are a helpful voice assistant. Answer in one short sentence.",
]


def build_tiny_smolvlm(folder: Path) -> Path:
    """Write a random-weight Idefics3 (SmolVLM) model + processor to ``folder``; returns the folder."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        Idefics3ImageProcessor,
        Idefics3Processor,
        PreTrainedTokenizerFast,
    )

    torch.manual_seed(0)
    raw = Tokenizer(models.BPE(unk_token=None))
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    raw.train_from_iterator(_CORPUS * 4, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw,
        bos_token="<|im_start|>",
        eos_token="<end_of_utterance>",
        pad_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        additional_special_tokens=SPECIAL_TOKENS[2:],
    )
    vocab = len(tokenizer)
    image_token = tokenizer.convert_tokens_to_ids("<image>")
    assert isinstance(image_token, int)
    image_size, patch_size, scale_factor = 32, 8, 2
    config = Idefics3Config(  # type: ignore[call-arg]  # pad_token_id is accepted through **kwargs
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "image_size": image_size,
            "patch_size": patch_size,
        },
        text_config={
            "model_type": "llama",
            "vocab_size": vocab,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "num_key_value_heads": 2,
            "max_position_embeddings": 1024,
            "pad_token_id": tokenizer.pad_token_id,
            "bos_token_id": tokenizer.bos_token_id,
            "eos_token_id": tokenizer.eos_token_id,
        },
        image_token_id=image_token,
        scale_factor=scale_factor,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = Idefics3ForConditionalGeneration(config).eval()
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    image_processor = Idefics3ImageProcessor(
        do_image_splitting=False,
        size={"longest_edge": image_size},
        max_image_size={"longest_edge": image_size},
    )
    seq_len = (image_size // patch_size) ** 2 // scale_factor**2
    processor = Idefics3Processor(
        image_processor=image_processor, tokenizer=tokenizer, image_seq_len=seq_len, chat_template=CHAT_TEMPLATE
    )
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(folder))
    processor.save_pretrained(str(folder))
    return folder


def png_bytes(color: tuple[int, int, int], size: tuple[int, int] = (96, 64), stripe: bool = False) -> bytes:
    """A small real PNG: a solid colour, optionally with a white stripe so two images differ in structure."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, color)
    if stripe:
        ImageDraw.Draw(image).rectangle((0, size[1] // 3, size[0], size[1] // 2), fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cache_dir() -> Path:
    """Where converted/built test models are kept between runs (the Gemma conversion takes over a minute)."""
    import os
    import tempfile

    root = Path(os.environ.get("ASSISTANT_TEST_CACHE") or Path(tempfile.gettempdir()) / "assistant-test-cache")
    root.mkdir(parents=True, exist_ok=True)
    return root


def tiny_vlm_folder() -> Path:
    """The tiny SmolVLM folder, built once per machine (rebuilt if a previous build was interrupted)."""
    import shutil

    folder = cache_dir() / "tiny-smolvlm"
    marker = folder / ".complete"
    if not marker.is_file():
        shutil.rmtree(folder, ignore_errors=True)
        build_tiny_smolvlm(folder)
        marker.write_text("ok\n")
    return folder
