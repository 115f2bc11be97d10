"""The speed bench: `python -m bench` (see bench/README.md). Measurements, never tests."""
