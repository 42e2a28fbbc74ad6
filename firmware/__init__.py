"""LALOPA counter call-button box (``lalopa button``): gpiozero in, MQTT out.

Runs on a Raspberry Pi Zero 2 W at each counter; see docs/BUTTONS.md.
"""
