"""Schemas of the health routes (``service.routes.health``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    inference_workers: int
    fingerprint: str
