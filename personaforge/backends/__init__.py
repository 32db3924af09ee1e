"""Backends for each stage kind, behind one Protocol per kind and a lazy registry."""
