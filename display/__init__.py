"""LALOPA display."""
