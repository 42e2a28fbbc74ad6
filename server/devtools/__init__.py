"""Developer tooling: the whole-system demo, simulated days, benchmarks,
screenshots and a private Mosquitto for tests and demos.

Nothing here is imported by a running appliance.
"""
