"""What the device tells Home Assistant it is: hello, device info (with the voice-assistant features it
really has), its entities (a media player), the media player's state and the wake-word choice HA shows."""

from __future__ import annotations

import hashlib
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

from assistant.remote.esphome.messages import (
    API_VERSION,
    MP_MEDIA_ANNOUNCE,
    MP_PAUSE,
    MP_PLAY_MEDIA,
    MP_STOP,
    MP_VOLUME_MUTE,
    MP_VOLUME_SET,
    VA_ANNOUNCE,
    VA_API_AUDIO,
    VA_SPEAKER,
    VA_START_CONVERSATION,
    VA_TIMERS,
    VA_VOICE_ASSISTANT,
    pb,
)

VERSION = "assistant 1.0"
MEDIA_PLAYER_ID = "media_player"
MEDIA_PLAYER_KEY = zlib.crc32(MEDIA_PLAYER_ID.encode())


def mac_for(name: str) -> str:
    """A stable, locally administered MAC per host and device name (HA keys the device on it)."""
    digest = bytearray(hashlib.sha256(f"{uuid.getnode()}:{name}".encode()).digest()[:6])
    digest[0] = (digest[0] | 0x02) & 0xFE
    return ":".join(f"{b:02X}" for b in digest)


@dataclass(frozen=True)
class WakeWordInfo:
    id: str  # the model's name ("hey_mycroft")
    phrase: str  # "Hey Mycroft"


class Device:
    def __init__(self, name: str, *, encrypted: bool, remote_brain: bool, wake_words: list[WakeWordInfo]) -> None:
        self.name = name
        self.mac = mac_for(name)
        self.encrypted = encrypted
        self.remote_brain = remote_brain  # brain: home_assistant (its pipeline answers after our wake word)
        self.wake_words = wake_words
        self.active_wake_words = [w.id for w in wake_words]

    @property
    def features(self) -> int:
        """local brain: HA may announce (and play media), but never runs its pipeline on our audio."""
        flags = VA_VOICE_ASSISTANT | VA_SPEAKER | VA_API_AUDIO | VA_ANNOUNCE
        if self.remote_brain:
            flags |= VA_TIMERS | VA_START_CONVERSATION
        return flags

    def hello(self) -> Any:
        return pb.HelloResponse(api_version_major=API_VERSION[0], api_version_minor=API_VERSION[1],
                                server_info=VERSION, name=self.name)

    def info(self) -> Any:
        return pb.DeviceInfoResponse(
            name=self.name, friendly_name=self.name.replace("-", " ").title(), mac_address=self.mac,
            esphome_version="2025.5.0", compilation_time="", model="assistant", manufacturer="assistant",
            project_name="assistant.voice-satellite", project_version=VERSION.split()[1],
            voice_assistant_feature_flags=self.features, legacy_voice_assistant_version=2,
            api_encryption_supported=self.encrypted)

    def entities(self) -> list[Any]:
        player = pb.ListEntitiesMediaPlayerResponse(
            object_id=MEDIA_PLAYER_ID, key=MEDIA_PLAYER_KEY, name="Media player", supports_pause=False,
            feature_flags=MP_PAUSE | MP_VOLUME_SET | MP_VOLUME_MUTE | MP_PLAY_MEDIA | MP_STOP | MP_MEDIA_ANNOUNCE)
        for purpose in (pb.MEDIA_PLAYER_FORMAT_PURPOSE_DEFAULT, pb.MEDIA_PLAYER_FORMAT_PURPOSE_ANNOUNCEMENT):
            player.supported_formats.add(format="flac", sample_rate=16000, num_channels=1, purpose=purpose,
                                         sample_bytes=2)
        return [player, pb.ListEntitiesDoneResponse()]

    def player_state(self, *, playing: bool, volume: float, muted: bool) -> Any:
        state = pb.MEDIA_PLAYER_STATE_PLAYING if playing else pb.MEDIA_PLAYER_STATE_IDLE
        return pb.MediaPlayerStateResponse(key=MEDIA_PLAYER_KEY, state=state, volume=volume, muted=muted)

    def configuration(self) -> Any:
        """The wake words HA lists in the satellite's wake-word select; all of ours listen at once."""
        response = pb.VoiceAssistantConfigurationResponse(max_active_wake_words=len(self.wake_words))
        for word in self.wake_words:
            response.available_wake_words.add(id=word.id, wake_word=word.phrase, trained_languages=["en"])
        response.active_wake_words.extend(self.active_wake_words)
        return response

    def set_active(self, ids: list[str]) -> list[str]:
        known = {w.id for w in self.wake_words}
        chosen = [i for i in ids if i in known]
        if chosen:
            self.active_wake_words = chosen
        return self.active_wake_words
