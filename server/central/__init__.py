"""The city's central role: one view over many autonomous sites (see docs/CITY.md).

Each site keeps its own server, SQLite and broker. Its broker bridges to the
central Mosquitto; its uplink sends the append-only event log; ``lalopa
central serve`` stores it in PostgreSQL (by site and seq, once), keeps daily
aggregates and serves the city dashboard.
"""
