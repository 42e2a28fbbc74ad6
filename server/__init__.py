"""LALOPA server."""
