"""Workers that run PersonaForge code on remote machines (the RunPod serverless worker)."""
