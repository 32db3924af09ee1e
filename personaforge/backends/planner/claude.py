"""The Claude director: groups the script's own sentences into shots and directs each one
(kind, emotion, camera, on-screen text) as one structured (JSON) answer. It never rewrites words."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from personaforge.backends.base import Planner, PlanSetup
from personaforge.backends.claude import DEFAULT_MODEL, Claude
from personaforge.backends.planner.shots import (
    Block,
    DirectorAnswer,
    answer_schema,
    build_shots,
    numbered,
    prompt_text,
    validate_answer,
)
from personaforge.backends.rates import PaidShot, Rates
from personaforge.core.manifests import PlannedShot
from personaforge.core.specs import Persona
from personaforge.costs import Billing, bill
from personaforge.fsutil import sha256_bytes

# The SDK takes seconds to import, and status, estimate and a cached plan never call it: only
# its presence is checked here, so the registry's install hint still names it.
if importlib.util.find_spec("anthropic") is None:
    raise ModuleNotFoundError("No module named 'anthropic'", name="anthropic")


@dataclass
class DirectorConfig:
    """What the plan stage hands the director: the rendered recipe prompt and the settings."""

    env: Mapping[str, str] = field(default_factory=dict)
    system_prompt: str = ""
    recipe: str = ""  # "name@digest" of the recipe the prompt came from
    model: str = DEFAULT_MODEL
    max_tokens: int = 16000


@dataclass
class ClaudePlanner(Planner):
    config: DirectorConfig = field(default_factory=DirectorConfig)
    billing: list[Billing] = field(default_factory=list)

    name = "claude"
    version = "1"
    language = "en"  # the script's language, set by the plan stage

    @classmethod
    def from_setup(cls, setup: PlanSetup) -> ClaudePlanner:
        planner = cls(config=setup.director())
        planner.language = setup.language
        return planner

    def settings_key(self) -> dict[str, object]:
        """Everything besides the script that changes the plan (never the key)."""
        return {
            "model": self.config.model,
            "max_tokens": self.config.max_tokens,
            "prompt": sha256_bytes(self.config.system_prompt.encode("utf-8")),
            "recipe": self.config.recipe,
        }

    def plan(self, script: str, persona: Persona) -> list[PlannedShot]:
        blocks = numbered(script, self.language)
        self.billing = []
        if not any(b.kind == "sentence" for b in blocks):
            return build_shots(
                blocks, DirectorAnswer.model_construct(shots=[]), persona.name, persona.archetype
            )
        client = Claude(
            self.config.env,
            model=self.config.model,
            max_tokens=self.config.max_tokens,
            what="Claude director",
        )
        answer = client.ask_json(
            system=self.config.system_prompt,
            user=_user_message(blocks),
            schema=answer_schema(),
            parse=lambda data: validate_answer(data, blocks),
        )
        self.billing = answer.billing
        return build_shots(blocks, answer.value, persona.name, persona.archetype)


def _user_message(blocks: list[Block]) -> str:
    count = sum(1 for b in blocks if b.kind == "sentence")
    return (
        f"The script, {count} numbered sentences:\n\n{prompt_text(blocks)}\n\n"
        f"Answer with shots covering sentences 1 to {count}, each exactly once, in order."
    )


# ---------------------------------------------------------------- what a request costs

CHARS_PER_TOKEN = 3.5  # English prose and JSON, on the high side of Claude's tokenizer


def _units(
    shots: Sequence[PaidShot], extra: Mapping[str, float], model: str | None
) -> list[Billing]:
    """One request: the prompt and numbered sentences in, a JSON shot list (and any thinking)
    out (``extra``: the rendered prompt's characters and the sentences it numbers)."""
    tokens_in = round(extra.get("prompt_chars", 0.0) / CHARS_PER_TOKEN)
    tokens_out = round(300 + 40 * extra.get("sentences", 0.0))
    return [
        bill("anthropic", "input_token", tokens_in, model=model, estimated=True),
        bill("anthropic", "output_token", tokens_out, model=model, estimated=True),
    ]


RATES = Rates(per_call_s=20.0, units=_units)  # one request, answered in about 20 s
