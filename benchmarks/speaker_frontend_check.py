"""Our numpy front end and encoder against librosa and Resemblyzer themselves, on real recordings.

Not for the project's venv (resemblyzer's librosa/webrtcvad would replace our packages): run it in a
throwaway one, from the repository root:

    python3 -m venv /tmp/rz && /tmp/rz/bin/pip install torch==2.13.0 resemblyzer==0.1.4 librosa
    /tmp/rz/bin/python benchmarks/speaker_frontend_check.py [WAV...]

For each file it prints how far our preprocessed waveform (volume, silence trimming), our mel spectrogram
(on Resemblyzer's own waveform) and our embedding are from Resemblyzer's (cosine similarity; the bar is
0.99). The result is in benchmarks/README.md.
"""

from __future__ import annotations

import sys
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from resemblyzer import VoiceEncoder, preprocess_wav  # type: ignore[import-not-found]
from resemblyzer.audio import wav_to_mel_spectrogram  # type: ignore[import-not-found]

from assistant.hearing.speakers import frontend
from assistant.hearing.speakers.encoder import SpeakerEncoder

SPEECH = Path(__file__).resolve().parent.parent.parent / "shared" / "speech"
DEFAULT = ["speechbrain-tests/spk1_snt1.wav", "speechbrain-tests/spk1_snt2.wav", "speechbrain-tests/spk2_snt1.wav",
           "speechbrain-tests/spk2_snt2.wav", "jfk/jfk.wav", "lhotse/LJ002-0020.wav",
           "triton-asr-client/1221-135766-0002.wav", "pyannote/pyannote_ami_dev00.wav",
           "google-speech-samples/brooklyn_bridge_silence_padding.wav"]


def main(files: list[str]) -> int:
    reference, ours = VoiceEncoder("cpu", verbose=False), SpeakerEncoder()
    worst_mel, worst_cosine = 0.0, 1.0
    for name in files or [str(SPEECH / f) for f in DEFAULT]:
        with wave.open(name) as w:
            if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (16000, 1, 2):
                print(f"{name}: not 16 kHz mono 16-bit, skipped")
                continue
            pcm = w.readframes(w.getnframes())
        theirs = preprocess_wav(Path(name))
        mine = frontend.preprocess(pcm)
        wav_diff = float(np.max(np.abs(theirs - mine))) if len(theirs) == len(mine) else float("nan")
        mel_theirs = wav_to_mel_spectrogram(theirs)
        mel_mine = frontend.mel_spectrogram(theirs.astype(np.float32))
        mel_diff = float(np.max(np.abs(mel_theirs - mel_mine)) / np.max(np.abs(mel_theirs)))
        embedding = ours.embed(pcm)
        cosine = float(np.dot(reference.embed_utterance(theirs), embedding)) if embedding is not None else 0.0
        worst_mel, worst_cosine = max(worst_mel, mel_diff), min(worst_cosine, cosine)
        print(f"{Path(name).name:40s} samples {len(theirs)}/{len(mine)}  waveform max diff {wav_diff:.1e}  "
              f"mel max diff {mel_diff:.1e} (relative)  embedding cosine {cosine:.6f}")
    print(f"worst: mel {worst_mel:.1e}, cosine {worst_cosine:.6f} ({'PASS' if worst_cosine >= 0.99 else 'FAIL'})")
    return 0 if worst_cosine >= 0.99 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
