"""Appliance tooling: what a technician runs on a Pi to make it one role of a site.

``install`` provisions a role (user, venv, configuration, secrets, systemd
units); ``doctor`` checks that what is installed will really work. Neither is
imported by the running server.
"""
