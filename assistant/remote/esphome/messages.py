"""The API's protobuf messages (aioesphomeapi's generated api_pb2) and their ids on the wire.

api_pb2 is generated code that mypy cannot see into, so messages are ``Any`` here; the ids come from
aioesphomeapi's own table, so they are the ones Home Assistant uses."""

from __future__ import annotations

import importlib
from typing import Any

pb: Any = importlib.import_module("aioesphomeapi.api_pb2")
_core: Any = importlib.import_module("aioesphomeapi.core")

TYPE_TO_MESSAGE: dict[int, Any] = dict(_core.MESSAGE_TYPE_TO_PROTO)
MESSAGE_TO_TYPE: dict[Any, int] = {cls: msg_type for msg_type, cls in TYPE_TO_MESSAGE.items()}

API_VERSION = (1, 10)  # feature flags in DeviceInfo (1.10+), no DeviceCapabilities request (1.15+)

# VoiceAssistantFeature (aioesphomeapi.model): what device info says the satellite does
VA_VOICE_ASSISTANT, VA_SPEAKER, VA_API_AUDIO, VA_TIMERS, VA_ANNOUNCE, VA_START_CONVERSATION = (
    1 << 0, 1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 5)
# MediaPlayerEntityFeature bits Home Assistant reads from the media player's feature_flags
MP_PAUSE, MP_VOLUME_SET, MP_VOLUME_MUTE, MP_PLAY_MEDIA, MP_STOP, MP_MEDIA_ANNOUNCE = (
    1, 4, 8, 512, 4096, 1048576)


def message_type(message: Any) -> int:
    return MESSAGE_TO_TYPE[type(message)]
