"""JSON Schema for the YAML files, for editors and validation."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from personaforge.core.manifests import (
    LipsyncManifest,
    PlanManifest,
    PublishManifest,
    RenderManifest,
    SpeechManifest,
)
from personaforge.core.specs import Brand, Persona, VideoSpec

MODELS: dict[str, type[BaseModel]] = {
    "persona.yaml": Persona,
    "video.yaml": VideoSpec,
    "brand.yaml": Brand,
    "plan.yaml": PlanManifest,
    "speech.yaml": SpeechManifest,
    "lipsync.yaml": LipsyncManifest,
    "render.yaml": RenderManifest,
    "publish.yaml": PublishManifest,
}


def schemas() -> dict[str, dict[str, Any]]:
    return {name: model.model_json_schema() for name, model in MODELS.items()}
