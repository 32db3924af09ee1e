"""Verbs that are not stages: init, doctor, gc, write, voices, estimate, batch, translate,
make-video."""
