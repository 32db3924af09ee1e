"""Captions: cues built from timed words (``cues``), written as WebVTT/SRT (``subtitles``)
and as ASS for libass (``ass``)."""
