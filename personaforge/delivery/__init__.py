"""Delivery: what a platform asks of a finished video, and the check that measures it."""
