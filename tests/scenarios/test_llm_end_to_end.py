"""The LLM path end to end: a spoken open question answered by Gemma through the virtual mic and speaker,
and `assistant ask --image` through the real image-text-to-text code with a tiny vision model."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from support.cli import run_cli
from support.daemon import run_daemon, stop
from support.llm import tiny_vlm_folder
from support.vaudio import VirtualAudio
from support.wav import read_wav


def test_spoken_open_question_is_answered_by_the_llm(vaudio: VirtualAudio, data_dir: Path, tmp_path: Path,
                                                     recognizer) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "config.yaml"
    config.write_text("llm:\n  backend: llamacpp\n  max_tokens: 40\n")
    env = {**vaudio.env, "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_RUNTIME_DIR": str(tmp_path)}
    reply_wav = tmp_path / "reply.wav"
    proc, log = run_daemon(config, env)
    try:
        recorder = vaudio.record(reply_wav)
        time.sleep(0.5)
        vaudio.play(data_dir / "brooklyn_bridge.wav").wait(30)
        turn = log.wait_for("handled_by=", timeout=180)
        time.sleep(2.0)
        recorder.terminate()
        recorder.wait(5)
    finally:
        stop(proc)
    assert "Brooklyn Bridge" in turn and "handled_by=llm" in turn, turn
    assert "llm_first_token_ms=" in turn and "error=" not in turn, turn
    reply = turn.split("reply=", 1)[1].strip('"')
    assert len(reply.split()) >= 3, turn
    # the answer was spoken: the virtual speaker heard words of it
    pcm, _ = read_wav(reply_wav)
    heard = recognizer.transcribe(pcm.tobytes(), vad_filter=True).text.lower()
    words = {w.strip(".,!?").lower() for w in reply.split() if len(w) > 3}
    assert any(w in heard for w in words), (reply, heard)


def test_ask_with_image_goes_through_the_vision_path(data_dir: Path, tmp_path: Path) -> None:
    folder = tiny_vlm_folder()
    config = tmp_path / "vlm.yaml"
    config.write_text(f"llm:\n  backend: transformers\n  model: {folder}\n  prompt_style: chat\n  max_tokens: 8\n")
    result = run_cli("--config", str(config), "ask", "what do you see?", "--image",
                     str(data_dir / "camera_red_cup.jpg"), "--json", env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["handled_by"] == "llm" and out["backend"] == "transformers"
    assert out["image"] is True  # the frame reached the image-text-to-text model
    assert out["tokens"]["prompt"] and out["tokens"]["prompt"] > 10
    assert out["ttft_ms"] is not None

