"""Archetype presets: for each kind of persona a look, a voice (offline and ElevenLabs), a
delivery and a one-line prompt for an LLM director."""

from __future__ import annotations

from dataclasses import dataclass, field

from personaforge.core.specs import Look


@dataclass(frozen=True)
class Archetype:
    description: str
    # The offline look: drawn so that the bundled offline voice (joe, a man's voice) fits it.
    look: Look
    speed: float  # speaking-rate factor written into persona.yaml's voice
    variation: float  # offline delivery: 0 flat .. 1 lively (piper noise)
    elevenlabs_voice: str  # a premade voice id every ElevenLabs account has
    elevenlabs_voice_name: str
    # Settings for the ElevenLabs voice (stability, similarity_boost, style).
    elevenlabs: dict[str, float] = field(default_factory=dict)
    # The look with the ElevenLabs voice, where that voice fits another drawing (a woman's
    # voice, say); None: the offline look.
    elevenlabs_look: Look | None = None
    brain_prompt: str = ""
    # Extra silence after each sentence inside a shot (the VoiceDirector's pacing), seconds.
    sentence_pause_s: float = 0.0

    def look_for(self, backend: str) -> Look:
        if backend == "elevenlabs" and self.elevenlabs_look is not None:
            return self.elevenlabs_look
        return self.look

    def as_json(self) -> dict[str, object]:
        return {
            "description": self.description,
            "look": self.look.model_dump(),
            "speed": self.speed,
            "variation": self.variation,
            "elevenlabs": {
                "voice": self.elevenlabs_voice,
                "voice_name": self.elevenlabs_voice_name,
                **self.elevenlabs,
                **({"look": self.elevenlabs_look.model_dump()} if self.elevenlabs_look else {}),
            },
            "brain_prompt": self.brain_prompt,
            "sentence_pause_s": self.sentence_pause_s,
        }


def _look(**kw: object) -> Look:
    return Look.model_validate(kw)


ARCHETYPES: dict[str, Archetype] = {
    "narrator": Archetype(
        "calm storyteller",
        _look(skin="#e0ac69", hair="#3b2a1a", hair_style="short", shirt="#2f6fd6",
              background="#1d2b3a", accent="#f5b700"),
        1.0, 0.45, "nPczCjzI2devNBz1zQrb", "Brian",
        {"stability": 0.6, "similarity_boost": 0.75, "style": 0.1},
        brain_prompt="Tell it as a story: an arc with a hook, a turn and a quiet close.",
    ),
    "teacher": Archetype(
        "patient explainer",
        _look(skin="#c68642", hair="#2b1d0e", hair_style="short", shirt="#6b8e23",
              background="#243447", accent="#ffd166", glasses=True),
        0.95, 0.5, "XrExE9yKIg1WjnnlVkGX", "Matilda",
        {"stability": 0.55, "similarity_boost": 0.75, "style": 0.15},
        _look(skin="#c68642", hair="#2b1d0e", hair_style="bun", shirt="#6b8e23",
              background="#243447", accent="#ffd166", glasses=True),
        brain_prompt="Explain step by step with one example per idea; check understanding.",
    ),
    "host": Archetype(
        "upbeat show host",
        _look(skin="#f1c27d", hair="#8d4a24", hair_style="short", shirt="#d7263d",
              background="#1b1f3b", accent="#2ec4b6"),
        1.1, 0.7, "cgSgspJ2msm6clMCkdW9", "Jessica",
        {"stability": 0.4, "similarity_boost": 0.75, "style": 0.35},
        _look(skin="#f1c27d", hair="#8d4a24", hair_style="long", shirt="#d7263d",
              background="#1b1f3b", accent="#2ec4b6"),
        brain_prompt="Open with energy, keep segments short, talk to the viewer as 'you'.",
    ),
    "coach": Archetype(
        "energetic motivator",
        _look(skin="#8d5524", hair="#0b0b0b", hair_style="short", shirt="#ff7f11",
              background="#102a43", accent="#f0f4f8"),
        1.05, 0.75, "TxGEqnHWrfWFTfGW9XjX", "Josh",
        {"stability": 0.35, "similarity_boost": 0.8, "style": 0.45},
        brain_prompt="Push to action: short imperative lines, one clear next step at the end.",
    ),
    "scientist": Archetype(
        "precise researcher",
        _look(skin="#ffdbac", hair="#9e9e9e", hair_style="bald", shirt="#f5f5f5",
              background="#0f2027", accent="#56cfe1", glasses=True),
        0.95, 0.35, "onwK4e9ZLuTAKqWW03F9", "Daniel",
        {"stability": 0.7, "similarity_boost": 0.75, "style": 0.05},
        brain_prompt="Be exact: claim, evidence, caveat; numbers with units; no hype.",
    ),
    "explorer": Archetype(
        "curious adventurer",
        _look(skin="#e0ac69", hair="#5a3825", hair_style="short", shirt="#3a5a40",
              background="#283618", accent="#dda15e"),
        1.0, 0.6, "IKne3meq5aSn9XLyUdCD", "Charlie",
        {"stability": 0.45, "similarity_boost": 0.75, "style": 0.25},
        brain_prompt="Discover as you go: questions first, vivid places, a sense of wonder.",
    ),
    "newsreader": Archetype(
        "measured anchor",
        _look(skin="#d1a37a", hair="#1f1a17", hair_style="short", shirt="#1f2a44",
              background="#0b132b", accent="#e63946"),
        1.0, 0.25, "JBFqnCBsd6RMkjVDRZzb", "George",
        {"stability": 0.8, "similarity_boost": 0.8, "style": 0.0},
        brain_prompt="Report it: lead with the news, then who, what, when; neutral tone.",
    ),
    "comedian": Archetype(
        "playful joker",
        _look(skin="#f3d2b3", hair="#c1440e", hair_style="short", shirt="#ffbe0b",
              background="#3a0ca3", accent="#fb5607"),
        1.08, 0.9, "N2lVS1w4EtoT3dr4eOWO", "Callum",
        {"stability": 0.3, "similarity_boost": 0.7, "style": 0.55},
        brain_prompt="Find the funny angle: setup, beat, punchline; keep it kind.",
    ),
    "mentor": Archetype(
        "warm elder guide",
        _look(skin="#a0522d", hair="#d9d9d9", hair_style="bald", shirt="#7f5539",
              background="#2d1e12", accent="#ddb892", glasses=True),
        0.92, 0.4, "pqHfZKP75CvOlQylNhV4", "Bill",
        {"stability": 0.65, "similarity_boost": 0.75, "style": 0.15},
        brain_prompt="Share wisdom from experience: a short anecdote, then the lesson.",
        sentence_pause_s=0.15,
    ),
    "salesperson": Archetype(
        "persuasive pitcher",
        _look(skin="#e8b98a", hair="#2e2e2e", hair_style="short", shirt="#0077b6",
              background="#03045e", accent="#90e0ef"),
        1.06, 0.65, "EXAVITQu4vr4xnSDxMaL", "Sarah",
        {"stability": 0.45, "similarity_boost": 0.8, "style": 0.3},
        _look(skin="#e8b98a", hair="#2e2e2e", hair_style="long", shirt="#0077b6",
              background="#03045e", accent="#90e0ef"),
        brain_prompt="Problem, promise, proof, then one clear call to action.",
    ),
    "techie": Archetype(
        "hands-on engineer",
        _look(skin="#ffe0bd", hair="#4b3621", hair_style="short", shirt="#2b2d42",
              background="#0d1b2a", accent="#00f5d4", glasses=True),
        1.04, 0.5, "iP95p4xoKVk53GoZ742B", "Chris",
        {"stability": 0.5, "similarity_boost": 0.75, "style": 0.2},
        brain_prompt="Show how it works: what it does, a concrete demo, the gotcha to avoid.",
    ),
    "meditator": Archetype(
        "soothing guide",
        _look(skin="#c99e77", hair="#6f4e37", hair_style="bald", shirt="#84a98c",
              background="#2f3e46", accent="#cad2c5"),
        0.88, 0.3, "XB0fDUnXU5powFXDhCwa", "Charlotte",
        {"stability": 0.75, "similarity_boost": 0.7, "style": 0.05},
        _look(skin="#c99e77", hair="#6f4e37", hair_style="bun", shirt="#84a98c",
              background="#2f3e46", accent="#cad2c5"),
        brain_prompt="Slow and gentle: breathing cues, short sentences, pauses between them.",
        sentence_pause_s=0.4,
    ),
}  # fmt: skip


def sentence_pause(archetype: str) -> float:
    found = ARCHETYPES.get(archetype)
    return 0.0 if found is None else found.sentence_pause_s


def offline_delivery(archetype: str) -> tuple[float, float]:
    """(rate factor, variation) of the offline voice for an archetype; neutral if unknown."""
    found = ARCHETYPES.get(archetype)
    return (1.0, 0.5) if found is None else (1.0, found.variation)
