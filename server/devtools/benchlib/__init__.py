"""Helpers for ``lalopa bench`` and the fault/fuzz tests: site, history loader, machine facts."""
