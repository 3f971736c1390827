"""satellite: being a Home Assistant voice satellite over the ESPHome native API (assistant/remote/esphome)."""

from __future__ import annotations

import binascii
from typing import Literal

from pydantic import Field, field_validator

from assistant.config.base import StrictModel


class EsphomeConfig(StrictModel):
    enabled: bool = Field(False, description="serve the ESPHome native API, so Home Assistant can add this device")
    host: str = Field("0.0.0.0", description="address the API listens on (0.0.0.0: every interface)")
    port: int = Field(6053, ge=1, le=65535, description="TCP port of the API (ESPHome's is 6053)")
    name: str = Field(
        "assistant", min_length=1, max_length=31, pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="device name shown in Home Assistant (lowercase letters, digits and dashes)",
    )
    encryption_key: str | None = Field(
        None, description="base64 Noise pre-shared key (32 bytes, `openssl rand -base64 32`); null or empty: plaintext"
    )

    @field_validator("encryption_key")
    @classmethod
    def _is_a_key(cls, value: str | None) -> str | None:
        if not value:  # null, or an unset ${ENV_VAR:-}: plaintext
            return None
        try:
            key = binascii.a2b_base64(value.encode("ascii"), strict_mode=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise ValueError("not base64: make one with `openssl rand -base64 32`") from None
        if len(key) != 32:
            raise ValueError(f"decodes to {len(key)} bytes, not 32: make one with `openssl rand -base64 32`")
        return value


class SatelliteConfig(StrictModel):
    esphome: EsphomeConfig = Field(default_factory=EsphomeConfig, description="the ESPHome native API server")
    brain: Literal["home_assistant", "local"] = Field(
        "home_assistant", description="home_assistant: after our wake word, Home Assistant's pipeline answers "
        "(needs listen.mode: wake_word); local: our own pipeline answers, Home Assistant may announce",
    )
