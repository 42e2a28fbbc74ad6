"""LALOPA firmware."""
