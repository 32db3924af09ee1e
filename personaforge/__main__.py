"""Allow `python -m personaforge`."""

from __future__ import annotations

from personaforge.cli.main import main

if __name__ == "__main__":
    main()
