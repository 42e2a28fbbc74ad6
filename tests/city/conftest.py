"""Fixtures for the city tests: a database of their own on the machine's PostgreSQL.

PostgreSQL listens on 127.0.0.1:5432 with trust auth for user postgres (the
Makefile's deps start it on a fresh machine). Each run creates a uniquely
named database and drops it afterwards.
"""
import os
import secrets

import psycopg
import pytest

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def pg_dsn():
    name = f"lalopa_test_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
