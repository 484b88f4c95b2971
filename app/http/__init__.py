"""Per-request steps that stand alone (the edge, app/edge.py, composes the rest)."""
