"""What every stage runs on: the context, the stage graph, preflight, the shared shot cache."""
