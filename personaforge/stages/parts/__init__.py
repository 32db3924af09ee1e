"""The helpers the stages share: faces, segments, joins, soundtrack, brand kit, narration."""
