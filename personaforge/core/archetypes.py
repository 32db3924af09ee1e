"""Archetype presets: a starting look and voice for each kind of persona."""

from __future__ import annotations

from personaforge.core.models import Look

ARCHETYPES: dict[str, tuple[str, Look, float]] = {
    "narrator": ("calm storyteller", Look(), 1.0),
    "teacher": (
        "patient explainer",
        Look(skin="#c68642", hair="#2b1d0e", hair_style="bun", shirt="#6b8e23",
             background="#243447", accent="#ffd166", glasses=True),
        0.95,
    ),
    "host": (
        "upbeat show host",
        Look(skin="#f1c27d", hair="#8d4a24", hair_style="long", shirt="#d7263d",
             background="#1b1f3b", accent="#2ec4b6"),
        1.1,
    ),
    "coach": (
        "energetic motivator",
        Look(skin="#8d5524", hair="#0b0b0b", hair_style="short", shirt="#ff7f11",
             background="#102a43", accent="#f0f4f8"),
        1.05,
    ),
    "scientist": (
        "precise researcher",
        Look(skin="#ffdbac", hair="#9e9e9e", hair_style="bald", shirt="#f5f5f5",
             background="#0f2027", accent="#56cfe1", glasses=True),
        0.95,
    ),
    "explorer": (
        "curious adventurer",
        Look(skin="#e0ac69", hair="#5a3825", hair_style="long", shirt="#3a5a40",
             background="#283618", accent="#dda15e"),
        1.0,
    ),
}  # fmt: skip
