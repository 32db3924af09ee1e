"""The job queue: make-video jobs on Redis (RQ), run by workers on any machine."""
