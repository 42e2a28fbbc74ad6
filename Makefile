# LALOPA: two commands on a fresh Debian / Raspberry Pi OS machine.
#   make demo   runs the whole system on this machine
#   make test   runs every test
# Both install what they need: system packages via apt where missing, and .venv.

PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed-stamp
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# command:package pairs installed via apt when the command is missing (sway, grim: the
# kiosk/board screen units are verified and run headless by tests/deploy)
SYSTEM_DEPS := mosquitto:mosquitto mosquitto_passwd:mosquitto-clients \
               chromium:chromium espeak-ng:espeak-ng systemd-analyze:systemd \
               sway:sway grim:grim nginx:nginx
PYTEST_ARGS ?=
# Two pytest workers: most tests wait on sockets, brokers and child processes,
# so two of them share this machine's two cores well (the suite takes about
# half the time of one worker). TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2

.PHONY: all deps postgres venv test demo screenshots bench rehearsal clean

all: test

deps:
	@missing=""; \
	for pair in $(SYSTEM_DEPS); do \
	  cmd=$${pair%%:*}; pkg=$${pair##*:}; \
	  command -v $$cmd >/dev/null 2>&1 || [ -x /usr/sbin/$$cmd ] || missing="$$missing $$pkg"; \
	done; \
	$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	@$(MAKE) --no-print-directory postgres

# The city tests (tests/city) and `lalopa bench --city` need PostgreSQL on
# 127.0.0.1:5432 with user postgres. When nothing answers there, install the
# Debian cluster, let user postgres in from loopback without a password (a
# test machine only: the line is marked lalopa-test), and start it.
postgres:
	@if ! $(PYTHON) -c 'import socket; socket.create_connection(("127.0.0.1", 5432), 2)' 2>/dev/null; then \
	  command -v pg_ctlcluster >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql; }; \
	  ver=$$(ls /etc/postgresql | sort -V | tail -n 1); \
	  hba=/etc/postgresql/$$ver/main/pg_hba.conf; \
	  $(SUDO) grep -q lalopa-test $$hba || $(SUDO) sed -i '1i host all postgres 127.0.0.1/32 trust # lalopa-test' $$hba; \
	  $(SUDO) pg_ctlcluster $$ver main start || $(SUDO) pg_ctlcluster $$ver main reload; \
	fi

$(STAMP): pyproject.toml
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

test: deps venv
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) $(PYTEST_ARGS)

demo: deps venv
	$(BIN)/lalopa demo

# Regenerates every picture in docs/ with the project's own commands.
screenshots: deps venv
	SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy $(BIN)/lalopa kiosk screenshots --out docs/kiosk
	SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy $(BIN)/lalopa display screenshots --out docs/display
	$(BIN)/python -m server.devtools.screenshots --out docs/dashboard
	$(BIN)/python -m server.devtools.cityshots --out docs/city

bench: deps venv
	$(BIN)/lalopa bench

# A whole office on booted Debian hosts, set up by running docs/DEPLOY.md (root; installs
# mmdebstrap and systemd-container when missing; caches under /var/cache/lalopa-rehearsal).
# SHOTS=1 also saves the kiosk's and the board's screens to docs/rehearsal/.
rehearsal: deps venv
	$(SUDO) $(BIN)/python tests/rehearsal/rehearse.py $(if $(SHOTS),--shots)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
