"""LALOPA kiosk."""
