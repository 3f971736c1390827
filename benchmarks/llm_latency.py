"""LLM turn latency per backend: load time, time to first token, time to first spoken sentence, tokens/s.

    python benchmarks/llm_latency.py                         # llamacpp + transformers with bundled Gemma 3 270M
    python benchmarks/llm_latency.py --backends llamacpp --runs 10
    python benchmarks/llm_latency.py --backends openai --base-url http://127.0.0.1:11434/v1 --model llama3.2

"First sentence" is what the speaker waits for: text-to-speech starts on it while the rest is generated.
Prints a table (medians over the runs, first run excluded as warm-up) and, with --json, one JSON line per backend.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.brain.brain import Brain
from assistant.brain.llm.factory import build_llm
from assistant.config.llm import LlmConfig, MemoryConfig

QUESTIONS = [
    "What is the capital of France?",
    "How many legs does a cat have?",
    "What colour is the sky on a clear day?",
    "What is the largest planet in our solar system?",
    "Who wrote Romeo and Juliet?",
    "What do bees make?",
]


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def run(backend: str, args: argparse.Namespace) -> dict[str, object]:
    overrides: dict[str, object] = {
        "backend": backend,
        "max_tokens": args.max_tokens,
        "temperature": 0.0,
        "threads": args.threads,
        "timeout_s": 120,
        "first_token_timeout_s": 120,
    }
    if args.model:
        overrides["model"] = args.model
    if args.base_url:
        overrides["base_url"] = args.base_url
    if args.cache_dir:
        overrides["cache_dir"] = args.cache_dir
    config = LlmConfig.model_validate(overrides)
    started = time.monotonic()
    llm = build_llm(config)
    assert llm is not None
    load_s = time.monotonic() - started
    with tempfile.TemporaryDirectory() as state:
        brain = Brain(llm, config, memory_config=MemoryConfig(enabled=False, path=state), backend=backend)
        ttft, first_sentence, rate, tokens = [], [], [], []
        sample = ""
        for i in range(args.runs + 1):
            question = QUESTIONS[i % len(QUESTIONS)]
            spoken = list(brain.answer(question))
            stats = brain.last_stats
            if i == 0:
                continue  # warm-up: first-call allocations are not what a user waits for
            sample = sample or f"{question} -> {' '.join(spoken)}"
            if stats.ttft_ms is not None:
                ttft.append(stats.ttft_ms)
            if stats.first_sentence_ms is not None:
                first_sentence.append(stats.first_sentence_ms)
            if stats.tokens_per_s:
                rate.append(stats.tokens_per_s)
            tokens.append(stats.completion_tokens)
    llm.close()
    return {
        "backend": backend,
        "model": config.model,
        "load_s": round(load_s, 2),
        "runs": args.runs,
        "ttft_ms": median(ttft),
        "first_sentence_ms": median(first_sentence),
        "tokens_per_s": median(rate),
        "tokens": median([float(t) for t in tokens]),
        "sample": sample,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="llamacpp,transformers", help="comma-separated backends to measure")
    parser.add_argument("--runs", type=int, default=6, help="measured questions per backend (after one warm-up)")
    parser.add_argument("--max-tokens", type=int, default=32, help="tokens per reply at most")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: all cores)")
    parser.add_argument("--model", help="llm.model (default: the bundled Gemma 3 270M)")
    parser.add_argument("--base-url", help="llm.base_url for the openai backend")
    parser.add_argument("--cache-dir", help="llm.cache_dir (where the bundled model is assembled/converted)")
    parser.add_argument("--json", action="store_true", help="also print one JSON line per backend")
    args = parser.parse_args()
    rows = [run(backend.strip(), args) for backend in args.backends.split(",") if backend.strip()]

    def fmt(value: object, digits: int = 0) -> str:
        return "-" if value is None else f"{float(value):.{digits}f}"  # type: ignore[arg-type]

    print(f"{'backend':<14}{'load s':>8}{'TTFT ms':>10}{'1st sentence ms':>17}{'tokens/s':>10}{'tokens':>8}")
    for row in rows:
        print(f"{row['backend']!s:<14}{fmt(row['load_s'], 1):>8}{fmt(row['ttft_ms']):>10}"
              f"{fmt(row['first_sentence_ms']):>17}{fmt(row['tokens_per_s'], 1):>10}{fmt(row['tokens']):>8}")
    for row in rows:
        print(f"  {row['backend']}: {row['sample']}")
        if args.json:
            print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
