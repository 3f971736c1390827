"""Answer quality of the assistant's brain: is what it says right, honest ("I don't know"), or wrong and confident?

Short spoken-assistant questions (benchmarks/data/answer_questions.jsonl: arithmetic, conversions, dates and
world time against a fixed clock, spelling, live data it cannot have, actions nobody configured, stable facts,
chit-chat) go through the router exactly as `assistant ask` sends them: the router and the LLM fallback are
built in-process from the config by the daemon's own build path (``assistant.app.router.build_router`` +
``LlmFallback``, warmed up like the daemon before READY), one question at a time, the streamed answer drained.

Each reply is scored over its lower-cased text:
- right: it matches the question's accepted answers (numbers within a tolerance, regexes, a date, the time in a
  zone, a word spelled letter by letter). For live data and unconfigured actions, right is an honest refusal
  ("I can't", "I don't have access") or a configured command that really ran.
- idk: an honest "I don't know / I can't / I don't have that" on a question that had an answer (the brain's
  apologies for a failed or timed-out turn count here too, and are also counted as errors).
- wrong: anything else, i.e. wrong and confident. A reply matching one of the question's ``wrong`` regexes (an
  invented temperature, "yes, it's locked") is wrong whatever else it says. The router's plain acknowledgement
  ("I heard: ...", no LLM) is never right.

Nothing runs for real: the router is built with ``dry_run`` (commands are described, not executed), conversation
memory is off, timers go to a throwaway file, the camera is off. The clock is fixed (the data file's ``meta``:
Monday 2026-12-07 10:00 in America/Chicago, also set as the process's TZ), so date answers are checkable.

    python benchmarks/answer_quality.py                       # default config + every other local model found
    python benchmarks/answer_quality.py --llm-backend llamacpp --llm-model gemma3-270m --categories date facts
    python benchmarks/answer_quality.py --config my.yaml --json out.json --details

Prints markdown: one summary row per backend+model, the targets, and a per-category table for each.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import importlib.util
import inspect
import json
import logging
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.config.llm import CameraConfig, LlmConfig, MemoryConfig
from assistant.config.schema import Config, load

HERE = Path(__file__).resolve().parent
QUESTIONS = HERE / "data" / "answer_questions.jsonl"
CATEGORIES = ("arithmetic", "conversion", "date", "world_time", "spelling", "live_data", "action_not_configured",
              "facts", "chit_chat")
EXACT = ("arithmetic", "conversion", "date")  # target: >= 98 % right
REFUSE = ("live_data", "action_not_configured")  # target: 0 wrong
REST = ("world_time", "spelling", "facts", "chit_chat")  # target: <= 10 % wrong-and-confident
DEFAULT_TOLERANCE = {"conversion": 0.02}  # relative; exact elsewhere unless a question says otherwise

# An honest "I don't know / can't / don't have that" (also the brain's apologies for failed turns).
IDK = re.compile(
    r"\bi (?:really )?(?:do not|don't|dont) know\b|\bnot sure\b|\bno idea\b|\bi'm unsure\b"
    r"|\bi (?:can't|cannot|can not|am unable to|'m unable to|am not able to|'m not able to|have no way to)\b"
    r"|\b(?:don't|do not|dont) have (?:access|any|that|the|real time|live|current|up to date|information|a way)\b"
    r"|\bno (?:access|way to)\b|\bnot (?:connected|set up|configured|able to)\b|\bunable to\b"
    r"|\bisn't something i can\b|\btook too long\b"
)
# Claims that an unconfigured action happened ("Okay.", "Done", "I've turned it off", "Playing jazz").
ACTION_CLAIM = re.compile(
    r"^(?:okay|ok|sure|done|alright|all right|got it|certainly|of course)\b"
    r"|\b(?:turned|switched|locked|unlocked|opened|closed|started|sent|added|ordered|called|calling|playing|dialing"
    r"|set to|now (?:on|off|locked|open|playing))\b|\bi've\b|\bi have (?:turned|set|added|sent|locked|opened|started)"
)

log = logging.getLogger("answer_quality")


# ---- numbers, times, dates and spelling in a spoken reply ------------------------------------------------------

_UNITS = {w: i for i, w in enumerate([
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"])}
_TENS = {w: 10 * (i + 2) for i, w in enumerate(
    ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"])}
_SCALES = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_ORDINALS = {w: i + 1 for i, w in enumerate([
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh",
    "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth",
    "twentieth"])}
_ORDINALS |= {"thirtieth": 30}
_FRACTION = {"half": 0.5, "quarter": 0.25}
_TOKEN = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?|[a-z]+|[.]")


def normalise(text: str) -> str:
    """Lower case, curly quotes straight, hyphens between letters as spaces, thousands separators gone."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", text)
    return re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)


def _number_run(tokens: list[str], i: int) -> tuple[float, int] | None:
    """The spelled number starting at tokens[i] ('fifty six', 'one hundred and twelve', 'three point two',
    'two and a half', 'a hundred'), with the index after it; None if none starts there."""
    if tokens[i] == "a" and tokens[i + 1:i + 2] in (["hundred"], ["thousand"], ["million"]):
        tokens = [*tokens[:i], "one", *tokens[i + 1:]]
    total, current, last = 0.0, 0.0, ""
    start = i
    while i < len(tokens):
        word, seen = tokens[i], i > start
        after_scale = last in ("hundred", "and", *_SCALES)
        if word in _UNITS and (not seen or after_scale or (last in _TENS and 0 < _UNITS[word] < 10)):
            current += _UNITS[word]
        elif word in _TENS and (not seen or after_scale):
            current += _TENS[word]
        elif word == "hundred" and seen and last not in _SCALES and last != "hundred":
            current = (current or 1) * 100
        elif word in _SCALES and seen:
            total += (current or 1) * _SCALES[word]
            current = 0
        elif word == "and" and last in ("hundred", *_SCALES) and tokens[i + 1:i + 2] and (
                tokens[i + 1] in _UNITS or tokens[i + 1] in _TENS):
            pass
        elif word == "and" and seen and tokens[i + 1:i + 3] in (["a", "half"], ["a", "quarter"]):
            return total + current + _FRACTION[tokens[i + 2]], i + 3
        elif word == "point" and seen and tokens[i + 1:i + 2] and tokens[i + 1] in _UNITS:
            digits = ""
            i += 1
            while i < len(tokens) and tokens[i] in _UNITS and _UNITS[tokens[i]] < 10:
                digits += str(_UNITS[tokens[i]])
                i += 1
            return total + current + float("0." + digits), i
        else:
            break
        last = word
        i += 1
    if i == start:
        return None
    return total + current, i


def numbers_in(text: str) -> list[float]:
    """Every number said in ``text``, digits or words ('56', 'fifty-six', '-8', 'minus eight', '1.5 million')."""
    tokens = _TOKEN.findall(normalise(text))
    out: list[float] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        sign = -1.0 if i > 0 and tokens[i - 1] in ("minus", "negative") else 1.0
        if re.fullmatch(r"-?\d+(?:\.\d+)?", token):
            value = float(token)
            i += 1
            if i < len(tokens) and tokens[i] in _SCALES:
                value *= _SCALES[tokens[i]]
                i += 1
            elif tokens[i:i + 3] in (["and", "a", "half"], ["and", "a", "quarter"]):
                value += _FRACTION[tokens[i + 2]]
                i += 3
            out.append(sign * value)
            continue
        run = _number_run(tokens, i)
        if run is None:
            i += 1
            continue
        value, i = run
        out.append(sign * value)
    return out


def digitised(text: str) -> str:
    """``text`` with spelled numbers written as digits ('seventy degrees' -> '70 degrees'), for regexes."""
    parts = re.findall(r"[a-z]+|[^a-z]+", normalise(text))
    out: list[str] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        if part in _UNITS or part in _TENS or part == "a":
            words, where = [part], [i]
            j = i + 1
            while j + 1 < len(parts) and parts[j] == " " and parts[j + 1].isalpha() and len(words) < 12:
                words.append(parts[j + 1])
                where.append(j + 1)
                j += 2
            run = _number_run(words, 0)
            if run is not None and not (part == "a" and run[1] <= 1):
                value, used = run
                out.append(f"{value:g}")
                i = where[used - 1] + 1
                continue
        out.append(part)
        i += 1
    return "".join(out)


_AM = re.compile(r"a\.?\s?m\b\.?|in the morning\b")
_PM = re.compile(r"p\.?\s?m\b\.?|in the (?:afternoon|evening)\b|tonight\b|at noon\b")
_NIGHT = re.compile(r"at night\b")
_OCLOCK = re.compile(r"o'? ?clock\b")


def times_in(text: str) -> list[tuple[int, int, str | None, bool]]:
    """(hour, minute, 'am'/'pm'/None, whether minutes or o'clock were said) for each clock time in ``text``."""
    spoken = digitised(text)
    spoken = re.sub(r"\bhalf past (\d{1,2})\b", r"\1:30", spoken)
    spoken = re.sub(r"\bquarter past (\d{1,2})\b", r"\1:15", spoken)
    spoken = re.sub(r"\bquarter to (\d{1,2})\b", lambda m: f"{(int(m.group(1)) - 1) % 12 or 12}:45", spoken)
    spoken = re.sub(r"\bnoon\b", "12:00 pm", spoken)
    spoken = re.sub(r"\bmidnight\b", "12:00 am", spoken)
    found: list[tuple[int, int, str | None, bool]] = []
    for match in re.finditer(r"(?<![\d.])(\d{1,2})(?::(\d{2})|\s(\d{2})(?!\d))?(?![\d.]?\d)", spoken):
        hour = int(match.group(1))
        minute_text = match.group(2) or match.group(3)
        rest = spoken[match.end():].lstrip()
        period = None
        if _AM.match(rest):
            period = "am"
        elif _PM.match(rest):
            period = "pm"
        elif _NIGHT.match(rest):
            period = "am" if hour <= 4 else "pm"
        said_clock = minute_text is not None or bool(_OCLOCK.match(rest))
        if match.group(3) is not None and period is None:
            continue  # "9 30" with no am/pm is two numbers, not a time
        if hour > 24 or (minute_text is not None and int(minute_text) > 59):
            continue
        found.append((hour, int(minute_text or 0), period, said_clock))
    return found


def time_matches(text: str, hour: int, minute: int) -> bool:
    """Whether ``text`` says the time hour:minute (24 h): '7 PM', '19:00', 'seven o'clock', 'half past nine'."""
    for h, m, period, said_clock in times_in(text):
        if m != minute:
            continue
        if period is not None:
            if 1 <= h <= 12 and (h % 12) + (12 if period == "pm" else 0) == hour:
                return True
        elif said_clock and (h == hour or (h <= 12 and h % 12 == hour % 12)):
            return True
    return False


def _ordinal_words(n: int) -> str:
    by_number = {v: k for k, v in _ORDINALS.items()}
    if n in by_number:
        return by_number[n]
    tens = {v: k for k, v in _TENS.items()}[n - n % 10]
    return f"{tens} {by_number[n % 10]}"


def _cardinal_words(n: int) -> str:
    names = {v: k for k, v in (_UNITS | _TENS).items()}
    return names[n] if n in names else f"{names[n - n % 10]} {names[n % 10]}"


def date_pattern(day: date) -> re.Pattern[str]:
    """'december 8', 'december the eighth', '8th of december', 'the 8th' for 2026-12-08."""
    month, d = day.strftime("%B").lower(), day.day
    number = rf"(?:{d}(?:st|nd|rd|th)?|{_ordinal_words(d)}|{_cardinal_words(d)})\b"
    return re.compile(rf"\b{month},?\s+(?:the\s+)?{number}|\b(?:the\s+)?{number}\s+(?:of\s+)?{month}\b"
                      rf"|\bthe\s+(?:{d}(?:st|nd|rd|th)|{_ordinal_words(d)})\b")


def spellings_in(text: str) -> list[str]:
    """Words spelled out letter by letter ('N-E-C-E-S-S-A-R-Y', 'r, h, y, t, h, m')."""
    lowered = text.lower()
    runs = re.findall(r"(?<![a-z'])(?:[a-z](?:[\s,.\-]+|$)){3,}", lowered)
    return ["".join(re.findall(r"[a-z]", run)) for run in runs]


# ---- questions ---------------------------------------------------------------------------------------------------

@dataclass
class Question:
    id: str
    category: str
    text: str
    spec: dict[str, Any]
    right: list[Callable[[str], bool]] = field(default_factory=list)
    wrong: list[re.Pattern[str]] = field(default_factory=list)
    refuse: bool = False


def load_questions(path: Path, categories: Iterable[str] | None) -> tuple[list[Question], datetime, str]:
    """The questions (checked: no accepted answer matches the question itself) and the fixed clock."""
    meta: dict[str, Any] = {}
    questions: list[Question] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        data = json.loads(line)
        if "meta" in data:
            meta = data["meta"]
            continue
        questions.append(Question(data["id"], data["category"], data["q"], data))
    zone = str(meta.get("timezone", "UTC"))
    now = datetime.fromisoformat(str(meta.get("clock", "2026-12-07T10:00:00")))
    wanted = set(categories) if categories else None
    questions = [q for q in questions if wanted is None or q.category in wanted]
    for q in questions:
        _compile(q, now, zone)
    return questions, now, zone


def _says_number(values: list[float], rel: float, absolute: float, reply: str) -> bool:
    return any(abs(n - v) <= max(absolute, rel * abs(v)) for n in numbers_in(reply) for v in values)


def _says_pattern(regex: re.Pattern[str], reply: str) -> bool:
    return bool(regex.search(normalise(reply)) or regex.search(digitised(reply)))


def _says_time(hour: int, minute: int, reply: str) -> bool:
    return time_matches(reply, hour, minute)


def _spells(word: str, reply: str) -> bool:
    # a stray leading letter ("it's a n-e-c-...") may join the run
    return any(run == word or run[1:] == word for run in spellings_in(reply))


def _compile(q: Question, now: datetime, zone: str) -> None:
    spec = q.spec
    q.refuse = bool(spec.get("refuse"))
    q.wrong = [re.compile(p) for p in spec.get("wrong", [])]
    if q.category == "action_not_configured":
        q.wrong.append(ACTION_CLAIM)
    if "num" in spec:
        values = [float(v) for v in spec["num"]]
        rel = float(spec.get("tol", DEFAULT_TOLERANCE.get(q.category, 0.0)))
        absolute = float(spec.get("abs", 1e-9))
        q.right.append(partial(_says_number, values, rel, absolute))
        if _says_number(values, rel, absolute, q.text):
            raise ValueError(f"{q.id}: the expected answer {values} is already in the question")
    for pattern in spec.get("re", []):
        q.right.append(partial(_says_pattern, re.compile(pattern)))
    if "date" in spec:
        q.right.append(partial(_says_pattern, date_pattern(date.fromisoformat(spec["date"]))))
    if "time" in spec:
        here = now.replace(tzinfo=ZoneInfo(zone))
        there = here if spec["time"] == "local" else here.astimezone(ZoneInfo(spec["time"]))
        q.spec["expected_time"] = there.strftime("%a %H:%M")
        q.right.append(partial(_says_time, there.hour, there.minute))
    if "spell" in spec:
        q.right.append(partial(_spells, str(spec["spell"]).lower()))
    if not q.right and not q.refuse:
        raise ValueError(f"{q.id}: no accepted answer")
    if q.category != "chit_chat" and any(check(q.text) for check in q.right):
        raise ValueError(f"{q.id}: an accepted answer matches the question itself: {q.text!r}")


def score(q: Question, reply: str, handled_by: str, echo: bool) -> str:
    """'right', 'idk' or 'wrong' (wrong and confident)."""
    text = normalise(reply)
    if echo:  # the router's plain acknowledgement: answers nothing, sounds like it was understood
        return "wrong"
    if q.refuse and handled_by == "command":
        return "right"  # a configured command did run (dry run here)
    if any(p.search(text) or p.search(digitised(reply)) for p in q.wrong):
        return "wrong"
    if q.refuse:
        return "right" if IDK.search(text) else "wrong"
    if any(check(reply) for check in q.right):
        return "right"
    if IDK.search(text):
        return "idk"
    return "wrong"


# ---- what to run -------------------------------------------------------------------------------------------------

@dataclass
class Target:
    label: str
    config: Config
    config_path: Path | None


def with_llm(config: Config, backend: str | None, model: str | None, base_url: str | None = None) -> Config:
    update = {k: v for k, v in {"backend": backend, "model": model, "base_url": base_url}.items() if v}
    if not update:
        return config
    return config.model_copy(update={"llm": LlmConfig.model_validate(config.llm.model_dump() | update)})


def effective(config: Config) -> tuple[str, str]:
    from assistant.brain.llm.factory import effective_backend

    backend = effective_backend(config.llm)
    return backend, ("-" if backend == "none" else config.llm.model)


def local_models() -> list[tuple[str, str, str]]:
    """(backend, model, where found) for every LLM this machine can load offline: bundled model packages that are
    installed, GGUF files in installed distributions and the usual cache folders, text models in the HF cache."""
    from assistant.brain.llm.weights import BUNDLED, cache_root

    llamacpp = importlib.util.find_spec("llama_cpp") is not None
    hf = importlib.util.find_spec("transformers") is not None and importlib.util.find_spec("torch") is not None
    found: list[tuple[str, str, str]] = []
    bundled_files = set()
    for name, entry in BUNDLED.items():
        bundled_files.add(entry.gguf_name)
        if importlib.util.find_spec(entry.package) is None:
            continue
        if llamacpp:
            found.append(("llamacpp", name, f"bundled package {entry.package}"))
        if hf:
            found.append(("transformers", name, f"bundled package {entry.package} (converted once)"))
    ggufs: set[Path] = set()
    for dist in importlib.metadata.distributions():
        for file in dist.files or []:
            if str(file).endswith(".gguf"):
                ggufs.add(Path(str(file.locate())))
    home = Path.home()
    for folder in (cache_root(None), home / ".cache" / "llama.cpp", home / "models", home / ".cache" / "huggingface"):
        if folder.is_dir():
            ggufs.update(folder.rglob("*.gguf"))
    for path in sorted(ggufs):
        if path.name in bundled_files or not path.is_file() or path.stat().st_size < 1_000_000:
            continue  # the bundled model's own assembled copy; vocab-only test files
        if llamacpp:
            found.append(("llamacpp", str(path), "GGUF file"))
    hub = Path(os.environ.get("HF_HUB_CACHE") or home / ".cache" / "huggingface" / "hub")
    if hf and hub.is_dir():
        for config_file in sorted(hub.glob("models--*/snapshots/*/config.json")):
            try:
                architectures = json.loads(config_file.read_text()).get("architectures") or []
            except (OSError, ValueError):
                continue
            if any(a.endswith("ForCausalLM") for a in architectures):
                found.append(("transformers", str(config_file.parent), "Hugging Face cache"))
    return found


def targets(args: argparse.Namespace) -> list[Target]:
    configs: list[tuple[Config, Path | None]] = [load(p) for p in args.config] if args.config else [load(None)]
    out: list[Target] = []
    for config, path in configs:
        config = with_llm(config, args.llm_backend, args.llm_model, args.llm_base_url)
        label = str(path) if path else "defaults"
        out.append(Target(label, config, path))
    if args.config or args.llm_backend or args.llm_model or args.llm_base_url or args.no_discover:
        return out
    seen = {effective(t.config) for t in out}
    base, base_path = configs[0]
    for backend, model, where in local_models():
        if (backend, model) in seen:
            continue
        seen.add((backend, model))
        out.append(Target(f"{'defaults' if base_path is None else base_path}, llm {backend} ({where})",
                          with_llm(base, backend, model), base_path))
    if ("none", "-") not in seen:
        out.append(Target(f"{'defaults' if base_path is None else base_path}, llm none (no LLM: skills only)",
                          with_llm(base, "none", None), base_path))
    return out


# ---- running -------------------------------------------------------------------------------------------------------

def benchmark_config(config: Config, scratch: Path) -> Config:
    """The config as the benchmark runs it: no memory, throwaway timers, no camera (see the module doc)."""
    skills = config.skills.model_copy(update={"timers_file": str(scratch / "timers.json")})
    memory = MemoryConfig(enabled=False, path=str(scratch / "memory"))
    return config.model_copy(update={"memory": memory, "skills": skills, "camera": CameraConfig(source=None)})


def build(config: Config, path: Path | None, clock: Callable[[], datetime]) -> tuple[Any, Any, bool]:
    """(router, fallback, clock_set) through the daemon's build path, with the fixed clock."""
    from assistant.app import router as app_router
    from assistant.brain.llm_fallback import LlmFallback

    fallback = LlmFallback(config)
    kwargs: dict[str, Any] = {"fallback": fallback, "config_path": path, "dry_run": True}
    clock_set = "clock" in inspect.signature(app_router.build_router).parameters
    if clock_set:
        kwargs["clock"] = clock
    router = app_router.build_router(config, **kwargs)
    if not clock_set:
        # build_router takes no clock (yet): give it to the skills it built, the only users of the clock today.
        for owner in (router, getattr(router, "_skills", None)):
            if owner is not None and callable(getattr(owner, "_clock", None)):
                owner._clock = clock
                clock_set = True
    fallback.bind(router)
    return router, fallback, clock_set


def run_target(target: Target, questions: list[Question], now: datetime, progress: bool) -> dict[str, Any]:
    from assistant.brain.brain import BrokenLLM

    backend, model = effective(target.config)
    result: dict[str, Any] = {"label": target.label, "backend": backend, "model": model, "results": []}
    with tempfile.TemporaryDirectory(prefix="answer-quality-") as scratch:
        config = benchmark_config(target.config, Path(scratch))
        try:
            router, fallback, clock_set = build(config, target.config_path, lambda: now)
        except Exception as exc:  # a broken config is this row's problem, not the whole run's
            result["error"] = f"could not build the router: {type(exc).__name__}: {exc}"
            return result
        result["clock_set"] = clock_set
        try:
            started = time.monotonic()
            try:
                brain = fallback.load(warm=True)
            except Exception as exc:
                result["error"] = f"could not load: {type(exc).__name__}: {exc}"
                return result
            if brain is not None and isinstance(brain.llm, BrokenLLM):
                result["error"] = f"could not load: {brain.llm.error}"
                return result
            if brain is not None:  # one turn first: a dead server or a model that can't answer is skipped, not scored
                list(brain.answer("Hello."))
                if brain.last_stats.handled_by == "apology":
                    result["error"] = f"does not answer: {brain.last_stats.error}"
                    return result
            warm_up = getattr(router, "warm_up", None)  # what the daemon also loads before READY, where it exists
            if callable(warm_up):
                warm_up()
            result["load_s"] = round(time.monotonic() - started, 2)
            if brain is not None:
                result["model"] = brain.llm.name
            acknowledgement = config.router.acknowledgement
            for n, q in enumerate(questions, 1):
                result["results"].append(ask(router, q, acknowledgement))
                if progress:
                    r = result["results"][-1]
                    print(f"  [{n}/{len(questions)}] {r['verdict']:5} {r['handled_by']:8} {q.text!r} -> "
                          f"{r['reply'][:90]!r}", file=sys.stderr, flush=True)
        finally:
            router.close()
            fallback.close()
            gc.collect()
    return result


def ask(router: Any, q: Question, acknowledgement: str) -> dict[str, Any]:
    started = time.monotonic()
    reply = router.route(q.text)
    first = time.monotonic()
    text = reply.spoken_text()
    total_ms = (time.monotonic() - started) * 1000.0
    llm = reply.extra.get("llm") or {}
    handled_by = reply.handled_by
    if llm.get("command"):
        handled_by = "command"
    elif llm.get("handled_by") not in (None, "llm"):  # the brain's apology, a refused claim, a memory command
        handled_by = f"llm-{llm['handled_by']}"
    ttft = llm.get("ttft_ms")
    if ttft is None:  # a skill, command or fallback: the whole reply is there when route() returns
        ttft = (first - started) * 1000.0
    echo = handled_by == "fallback" and text.strip() == acknowledgement.format(text=q.text.strip()).strip()
    verdict = score(q, text, handled_by, echo)
    return {"id": q.id, "category": q.category, "question": q.text, "reply": text, "handled_by": handled_by,
            "intent": reply.intent, "verdict": verdict, "ttft_ms": round(float(ttft), 1),
            "total_ms": round(total_ms, 1), "llm_ttft_ms": llm.get("ttft_ms"),
            "error": llm.get("error") if handled_by == "llm-apology" or llm.get("timed_out") else None,
            "note": llm.get("error"),
            "expected": {k: v for k, v in q.spec.items() if k not in ("id", "category", "q")}}


# ---- report ----------------------------------------------------------------------------------------------------

def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.0f} %" if whole else "-"


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.0f}" if values else "-"


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows)
    verdicts = [r["verdict"] for r in rows]
    handled: dict[str, int] = {}
    for r in rows:
        handled[r["handled_by"]] = handled.get(r["handled_by"], 0) + 1
    llm = [r for r in rows if r["llm_ttft_ms"] is not None]
    return {
        "n": n, "right": verdicts.count("right"), "idk": verdicts.count("idk"), "wrong": verdicts.count("wrong"),
        "handled": handled,
        "errors": sum(1 for r in rows if r["error"]),
        "ttft_ms_median": statistics.median([r["ttft_ms"] for r in rows]) if rows else None,
        "llm_ttft_ms_median": statistics.median([r["ttft_ms"] for r in llm]) if llm else None,
        "total_ms_median": statistics.median([r["total_ms"] for r in rows]) if rows else None,
    }


def targets_met(rows: list[dict[str, Any]]) -> dict[str, tuple[str, bool]]:
    def pick(cats: tuple[str, ...]) -> list[dict[str, Any]]:
        return [r for r in rows if r["category"] in cats]

    exact, live, action, rest = pick(EXACT), pick(("live_data",)), pick(("action_not_configured",)), pick(REST)
    out: dict[str, tuple[str, bool]] = {}
    if exact:
        right = sum(r["verdict"] == "right" for r in exact)
        out["arithmetic+conversion+date right >= 98 %"] = (_pct(right, len(exact)), right >= 0.98 * len(exact))
    if live:
        wrong = sum(r["verdict"] == "wrong" for r in live)
        out["invented live facts = 0"] = (f"{wrong}/{len(live)}", wrong == 0)
    if action:
        wrong = sum(r["verdict"] == "wrong" for r in action)
        out["claimed actions = 0"] = (f"{wrong}/{len(action)}", wrong == 0)
    if rest:
        wrong = sum(r["verdict"] == "wrong" for r in rest)
        out["wrong-and-confident on the rest <= 10 %"] = (_pct(wrong, len(rest)), wrong <= 0.10 * len(rest))
    return out


def _handled(h: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(h.items(), key=lambda kv: -kv[1]))


def markdown(runs: list[dict[str, Any]], details: bool) -> str:
    lines = ["| backend / model | config | load s | run s | right | idk | wrong & confident "
             "| median TTFT ms (all / LLM) | median total ms | handled by | targets met |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for run in runs:
        name = f"{run['backend']} / {Path(run['model']).name if run['model'] != '-' else '-'}"
        if run.get("error"):
            lines.append(f"| {name} | {run['label']} | - | - | - | - | - | - | - | - | not run: {run['error']} |")
            continue
        s = summarise(run["results"])
        met = targets_met(run["results"])
        ttft = f"{_median([r['ttft_ms'] for r in run['results']])} / " + (
            f"{s['llm_ttft_ms_median']:.0f}" if s["llm_ttft_ms_median"] is not None else "-")
        lines.append(f"| {name} | {run['label']} | {run.get('load_s', '-')} | {run.get('wall_s', '-')} "
                     f"| {_pct(s['right'], s['n'])} "
                     f"| {_pct(s['idk'], s['n'])} | {_pct(s['wrong'], s['n'])} | {ttft} "
                     f"| {_median([r['total_ms'] for r in run['results']])} | {_handled(s['handled'])} "
                     f"| {sum(ok for _, ok in met.values())}/{len(met)} |")
    for run in runs:
        if run.get("error") or not run["results"]:
            continue
        lines += ["", f"### {run['backend']} / {run['model']} ({run['label']})", ""]
        if not run.get("clock_set", True):
            lines.append("**The fixed clock could not be passed in: date answers are against the real clock.**\n")
        for label, (value, ok) in targets_met(run["results"]).items():
            lines.append(f"- {'PASS' if ok else 'FAIL'} {label}: {value}")
        lines += ["", "| category | n | right | idk | wrong & confident | median TTFT ms | median total ms "
                  "| handled by |", "|---|---:|---:|---:|---:|---:|---:|---|"]
        for category in CATEGORIES:
            rows = [r for r in run["results"] if r["category"] == category]
            if not rows:
                continue
            s = summarise(rows)
            lines.append(f"| {category} | {s['n']} | {_pct(s['right'], s['n'])} | {_pct(s['idk'], s['n'])} "
                         f"| {_pct(s['wrong'], s['n'])} | {_median([r['ttft_ms'] for r in rows])} "
                         f"| {_median([r['total_ms'] for r in rows])} | {_handled(s['handled'])} |")
        if details:
            lines += ["", "| id | verdict | handled by | question | reply |", "|---|---|---|---|---|"]
            for r in run["results"]:
                reply = r["reply"].replace("|", "\\|").replace("\n", " ")
                lines.append(f"| {r['id']} | {r['verdict']} | {r['handled_by']} | {r['question']} | {reply} |")
    return "\n".join(lines) + "\n"


def code_version() -> str:
    """The commit the assistant package comes from, and whether its working tree has uncommitted changes."""
    import subprocess

    import assistant

    root = Path(assistant.__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "assistant"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"{root} (not a git checkout)"
    if not head:
        return f"{root} (not a git checkout)"
    changed = len(dirty.splitlines())
    return f"{root} at {head}" + (f" + {changed} uncommitted change(s) under assistant/" if changed else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--config", action="append", metavar="PATH", help="a config file (repeat for several)")
    parser.add_argument("--llm-backend", choices=["auto", "llamacpp", "transformers", "openai", "none"],
                        help="override llm.backend")
    parser.add_argument("--llm-model", help="override llm.model (bundled name, .gguf, folder, hub id, server model)")
    parser.add_argument("--llm-base-url", help="override llm.base_url (openai backend: a local server)")
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="the questions file (JSON lines)")
    parser.add_argument("--categories", nargs="+", choices=CATEGORIES, help="only these categories")
    parser.add_argument("--no-discover", action="store_true", help="only the default config, no other local models")
    parser.add_argument("--json", metavar="OUT", type=Path, help="write every reply and its score here")
    parser.add_argument("--markdown", metavar="OUT", type=Path, help="also write the markdown report here")
    parser.add_argument("--details", action="store_true", help="list every question and reply in the report")
    parser.add_argument("--quiet", action="store_true", help="no per-question progress on stderr")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    questions, now, zone = load_questions(args.questions, args.categories)
    os.environ["TZ"] = zone  # the fixed clock is naive local time in this zone, on every machine
    time.tzset()
    runs: list[dict[str, Any]] = []
    for target in targets(args):
        backend, model = effective(target.config)
        print(f"== {backend} / {model} ({target.label}): {len(questions)} questions", file=sys.stderr, flush=True)
        began = time.monotonic()
        run = run_target(target, questions, now, progress=not args.quiet)
        run["wall_s"] = round(time.monotonic() - began, 1)
        if run.get("error"):
            print(f"   skipped: {run['error']}", file=sys.stderr, flush=True)
        runs.append(run)
    report = markdown(runs, args.details)
    print(f"Fixed clock: {now:%A %Y-%m-%d %H:%M} {zone}; {len(questions)} questions from {args.questions.name}; "
          f"code: {code_version()}.\n")
    print(report, end="")
    if args.markdown:
        args.markdown.write_text(report, encoding="utf-8")
    if args.json:
        payload = {"clock": now.isoformat(), "timezone": zone, "questions": str(args.questions), "code": code_version(),
                   "runs": [run | {"summary": summarise(run["results"]) if run["results"] else None,
                                   "targets": {k: {"value": v, "met": ok}
                                               for k, (v, ok) in targets_met(run["results"]).items()}}
                            for run in runs]}
        args.json.write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
