"""The brand kit as the stages use it: colours, font, logo and bumpers resolved to files, with
defaults from the persona's look and the bundled font, and the keys that cache on it."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from personaforge.assets import FONT_NAME, font_path, fonts_dir
from personaforge.core.specs import Bumper, Logo
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import canonical_hash, sha256_file
from personaforge.media.filtergraph import LogoOverlay
from personaforge.runtime.common import Context, brand_spec


@dataclass(frozen=True)
class BrandKit:
    background: str
    accent: str
    text: str
    font_file: Path
    font_name: str
    fonts_dir: Path
    logo: Logo | None = None
    logo_file: Path | None = None
    intro: Bumper | None = None
    outro: Bumper | None = None
    source: Path | None = None  # the file the brand came from, for error messages

    def look_key(self) -> str:
        """What changes every shot's pixels (not the bumpers: they are segments of their own)."""
        return canonical_hash(
            {
                "colours": [self.background, self.accent, self.text],
                "font": sha256_file(self.font_file) if self.font_name != FONT_NAME else FONT_NAME,
                "logo": self.logo.model_dump(mode="json") if self.logo else None,
                "logo_file": sha256_file(self.logo_file) if self.logo_file else None,
            }
        )

    def logo_overlay(self) -> LogoOverlay | None:
        if self.logo is None or self.logo_file is None:
            return None
        return LogoOverlay(self.logo_file, self.logo.corner, self.logo.size, self.logo.opacity)

    def bumper_key(self, bumper: Bumper, path: Path | None) -> str:
        return canonical_hash(
            {
                "look": self.look_key(),
                "bumper": bumper.model_dump(mode="json"),
                "clip": sha256_file(path) if path else None,
            }
        )


def load(ctx: Context) -> BrandKit:
    brand, source = brand_spec(ctx)
    look = ctx.persona.look
    if brand is None:
        return BrandKit(
            look.background, look.accent, "#ffffff", font_path(), FONT_NAME, fonts_dir()
        )
    font_file, font_name, folder = font_path(), FONT_NAME, fonts_dir()
    if brand.font is not None:
        font_file = _file(ctx, brand.font, source, "brand.font")
        font_name = family_name(font_file)
        folder = font_file.parent
    logo_file = _file(ctx, brand.logo.file, source, "brand.logo.file") if brand.logo else None
    for name, bumper in (("intro", brand.intro), ("outro", brand.outro)):
        if bumper is not None and bumper.clip is not None:
            _file(ctx, bumper.clip, source, f"brand.{name}.clip")
    return BrandKit(
        background=brand.background or look.background,
        accent=brand.accent or look.accent,
        text=brand.text,
        font_file=font_file,
        font_name=font_name,
        fonts_dir=folder,
        logo=brand.logo,
        logo_file=logo_file,
        intro=brand.intro,
        outro=brand.outro,
        source=source,
    )


def clip_path(ctx: Context, bumper: Bumper) -> Path | None:
    return ctx.project.path(bumper.clip) if bumper.clip else None


def _file(ctx: Context, rel: str, source: Path, field: str) -> Path:
    path = ctx.project.path(rel, file=source, field=field)
    if not path.is_file():
        raise PersonaForgeError(f"{rel!r} not found", file=source, field=field)
    return path


@functools.lru_cache(maxsize=8)
def family_name(font: Path) -> str:
    """The font's family name, which libass looks it up by."""
    from fontTools.ttLib import TTFont, TTLibError

    try:
        with TTFont(str(font), lazy=True) as ttf:
            name = ttf["name"].getBestFamilyName()
    except (OSError, TTLibError, KeyError) as exc:
        raise PersonaForgeError(f"cannot read the font ({exc})", file=font) from None
    if not name:
        raise PersonaForgeError("the font has no family name", file=font)
    return str(name)
