"""Models and queries: the only place SQL is written."""
