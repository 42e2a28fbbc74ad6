"""The bus: the MQTT contract every LALOPA device speaks, and its client.

``broker.protocol`` is the one written contract of every topic and payload;
``broker.bus`` wraps paho-mqtt once for every component.
"""
