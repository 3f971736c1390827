"""The wake-word benchmark's result as a Markdown table (``assistant bench wake`` prints it)."""

from __future__ import annotations

from typing import Any

from assistant.bench.wake_audio import CONDITIONS


def _pct(tally: dict[str, Any] | None) -> str:
    if not tally or tally.get("rate") is None:
        return "-"
    return f"{100 * tally['rate']:.1f}"


def _fa(neg: dict[str, Any] | None) -> str:
    if not neg:
        return "-"
    return f"{neg['false_accepts']} / {neg['hours']:.2f} h = {neg['per_hour']:.1f}"


def table(result: dict[str, Any]) -> str:
    """A Markdown table: one row per detector and model."""
    names = [name for name, _ in CONDITIONS]
    head = ["detector", "model", "N"] + [f"{n} %" for n in names] + [
        "real clips", "FA base (n / h = per h)", "FA long (n / h = per h)", "CPU % 1 model", "CPU % 2 models",
        "latency ms median / p90"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    blocks = [(f"{e}", r) for e, r in result["engines"].items()]
    if "transcript" in result:
        blocks.append((f"Whisper {result['transcript']['asr_model']} + match_wake", result["transcript"]))
    for detector, block in blocks:
        cpu = block["cpu_percent_of_one_core"]
        for model, r in block["models"].items():
            pos = r["positives"]
            conds = pos["conditions"]
            real = pos["families_clean"].get("real")
            lat = pos["latency_ms"]
            row = [detector, model, str(conds.get("clean", {}).get("n", 0))] + [_pct(conds.get(n)) for n in names]
            row += [f"{real['detected']}/{real['n']}" if real else "-", _fa(r.get("negatives")),
                    _fa(r.get("negatives_long")), f"{cpu.get('1 model', cpu.get('VAD + Whisper', float('nan'))):.2f}",
                    f"{cpu['2 models']:.2f}" if "2 models" in cpu else "-",
                    f"{lat['median']:.0f} / {lat['p90']:.0f}" if lat["n"] else "-"]
            lines.append("| " + " | ".join(row) + " |")
    weak = []
    for detector, block in blocks:
        for model, r in block["models"].items():
            for family, t in r["positives"]["families_clean"].items():
                if t["rate"] is not None and t["rate"] < 0.8:
                    weak.append(f"{detector} {model}: {family} {t['detected']}/{t['n']} clean")
    if weak:
        lines += ["", "voice families detected below 80 % on clean clips: " + "; ".join(weak)]
    return "\n".join(lines)
