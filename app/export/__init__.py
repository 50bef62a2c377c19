"""Exporting the animatic for editors: per-shot movies, a reference movie, timelines, boards."""
