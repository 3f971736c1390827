"""The language model's cue for the end of turn: the bundled SmolLM2-135M-Instruct through llama.cpp, real."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.app.build import load_sentence_end
from assistant.app.checks import deep_check
from assistant.config.schema import Config, ConfigError
from assistant.hearing.end_of_turn import UNLIKELY_END
from assistant.hearing.sentence_end import SentenceEnd, as_message


@pytest.fixture(scope="module")
def model() -> SentenceEnd:
    loaded = load_sentence_end("smollm2-135m")
    assert loaded is not None  # installed by .ci/run (the llm extras): a warning here would be a missing install
    return loaded


# The shared set's requests and read sentences (tests/data has their recordings' licences where copied), each
# against the words before a pause in its middle.
PAIRS = [
    ("turn on the living room lamp", "turn on the"),
    ("how old is the brooklyn bridge", "how old is"),
    ("the pencils have all been used", "the pencils have"),
    ("what joy there is in living", "what joy there"),
    ("he might even have been made amiable himself", "he might even have"),
    ("the child almost hurt the small dog", "the child almost"),
]


@pytest.mark.parametrize(("whole", "half"), PAIRS)
def test_a_whole_request_can_end_and_its_first_half_cannot(model: SentenceEnd, whole: str, half: str) -> None:
    assert model.log10_probability(whole) >= UNLIKELY_END > model.log10_probability(half)


def test_whispers_punctuation_and_case_do_not_sway_it(model: SentenceEnd) -> None:
    assert as_message("The pencils, have…  “all” been used!") == "the pencils have all been used"
    assert model.log10_probability("The pencils have.") == model.log10_probability("the pencils have")


def test_no_model_configured_is_none_and_a_bad_path_is_a_plain_error(tmp_path: Path) -> None:
    assert load_sentence_end("") is None
    with pytest.raises(ConfigError, match=r"latency\.sentence_end_model"):
        load_sentence_end(str(tmp_path / "missing.gguf"))
    (tmp_path / "junk.gguf").write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="not a GGUF model"):
        load_sentence_end(str(tmp_path / "junk.gguf"))


def test_config_check_names_a_sentence_end_model_that_is_not_there() -> None:
    missing = Config.model_validate({"latency": {"sentence_end_model": "/no/such/model.gguf"}})
    problems = deep_check(missing, None)
    assert any(p.startswith("latency.sentence_end_model: /no/such/model.gguf is neither") for p in problems)
    for fine in ("smollm2-135m", ""):
        config = Config.model_validate({"latency": {"sentence_end_model": fine}})
        assert not [p for p in deep_check(config, None) if p.startswith("latency")]
