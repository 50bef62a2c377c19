"""Pinframe: the document, the bundle on disk, edits, export and the CLI (no Qt)."""

__version__ = "0.1.0"
