"""The domain: manifests, the project folder, the stage cache."""
