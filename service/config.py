"""Service settings: one pydantic-settings model read from arguments, ``JOURNEYLENS_*`` variables and a file.

Precedence, highest first: values passed in code (the ``journeylens serve`` options), environment variables
(``JOURNEYLENS_PORT=9000``, lists as JSON: ``JOURNEYLENS_CORS_ORIGINS='["https://cx.example.com"]'``), the
settings file (YAML, TOML or JSON; named by ``--settings`` or ``JOURNEYLENS_SETTINGS_FILE``), the defaults.
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import (
    BaseSettings,
    JsonConfigSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
    YamlConfigSettingsSource,
)

from nlp.resources import ENV_PREFIX, settings_file_from_env

_settings_file: ContextVar[Path | None] = ContextVar("settings_file", default=None)


class Settings(BaseSettings):
    """Everything the service reads at start-up; see docs/service.md for the meaning of each field."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", validate_default=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=64, description="Inference worker processes.")
    db: Path = Path("journeylens.duckdb")
    keys_file: Path | None = Field(default=None, description="API key file; default: <db>.keys.json")
    pipeline_config: Path | None = Field(default=None, description="Pipeline YAML, as `journeylens score --config`")
    analytics_settings: Path | None = Field(default=None, description="Analytics YAML (weights, thresholds), as "
                                                                      "`journeylens rank --settings`")

    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_batch_transcripts: int = Field(default=100, ge=1)
    request_timeout_s: float = Field(default=30.0, gt=0)
    discover_wait_s: float = Field(default=20.0, ge=0, description="How long GET /v1/discover waits for a "
                                   "computation before answering 202 (it goes on; ask again).")
    rate_limit_per_second: float = Field(default=20.0, ge=0, description="Per key; 0 turns rate limiting off.")
    rate_limit_burst: int = Field(default=40, ge=1)

    batch_max_size: int = Field(default=32, ge=1, description="Transcripts per micro-batch (one model call).")
    batch_max_wait_ms: float = Field(default=0.0, ge=0, description="How long a micro-batch waits to fill up.")
    write_batch_max: int = Field(default=64, ge=1, description="Ingested transcripts per DuckDB transaction.")
    worker_stall_s: float = Field(default=120.0, gt=0, description="An inference worker holding a batch this long "
                                  "is stalled: /readyz fails and the worker is replaced.")

    cors_origins: list[str] = Field(default_factory=list, description="Allowed CORS origins; empty = CORS off.")
    docs: bool = Field(default=True, description="Serve /docs and /openapi.json.")
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @model_validator(mode="after")
    def _default_keys_file(self) -> Settings:
        if self.keys_file is None:
            self.keys_file = self.db.with_name(self.db.stem + ".keys.json")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _settings_file.get() or settings_file_from_env()
        if path:
            sources.append(_file_source(settings_cls, Path(path)))
        return tuple(sources)


def _file_source(settings_cls: type[BaseSettings], path: Path) -> PydanticBaseSettingsSource:
    if not path.is_file():
        raise ValueError(f"settings file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return YamlConfigSettingsSource(settings_cls, yaml_file=path)
    if suffix == ".toml":
        return TomlConfigSettingsSource(settings_cls, toml_file=path)
    if suffix == ".json":
        return JsonConfigSettingsSource(settings_cls, json_file=path)
    raise ValueError(f"settings file {path}: use .yaml, .yml, .toml or .json")


def load_service_settings(settings_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from ``overrides`` (None values ignored), the environment and the settings file."""
    token = _settings_file.set(settings_file)
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    finally:
        _settings_file.reset(token)
