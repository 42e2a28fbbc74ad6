"""The words every LALOPA part shares: priorities, ticket and counter states, roles.

Each vocabulary is defined here once and imported by the server, the bus
contract, the kiosk, the board and the button box. It lives in ``broker/``
because that package is the written contract every role already depends on,
and it imports neither Flask nor pygame, so a 512 MB button box can load it.

    >>> PRIORITIES
    ('lansia', 'disabilitas', 'hamil')
    >>> priority_label("hamil", "en")
    'Pregnant'
"""
from __future__ import annotations

# -- priorities --------------------------------------------------------------
# Public-service law gives these residents priority service; the words are the
# ones on the kiosk's chips, the ticket and the board.
PRIORITY_LABELS: dict[str, tuple[str, str]] = {
    "lansia": ("Lansia", "Elderly"),
    "disabilitas": ("Disabilitas", "Disability"),
    "hamil": ("Ibu hamil", "Pregnant"),
}
PRIORITIES: tuple[str, ...] = tuple(PRIORITY_LABELS)


def priority_label(priority: str, lang: str = "id") -> str:
    """The priority's word in ``lang`` ("id" or "en"); an unknown value is shown as it is."""
    pair = PRIORITY_LABELS.get(priority)
    if pair is None:
        return str(priority)
    return pair[1] if lang == "en" else pair[0]


# -- tickets -----------------------------------------------------------------
TICKET_STATES = ("waiting", "called", "serving", "done", "no_show", "cancelled", "transferred")
WAITING = "waiting"
#: A ticket a counter is busy with: called and not yet finished.
ACTIVE_STATES = ("called", "serving")
CALL_KINDS = ("call", "recall")

#: A service's predictive cut-off (site file ``services[].cutoff``): when the estimate
#: for a new number passes closing time, ``off`` says nothing, ``warn`` makes the kiosk
#: say so before issuing, ``stop`` refuses the number (the server decides).
CUTOFF_MODES = ("off", "warn", "stop")
#: What the queue summary tells a kiosk about a new number: ``ok`` or one of the modes.
CUTOFF_STATES = ("ok", "warn", "stop")

# -- counters ----------------------------------------------------------------
COUNTER_STATES = ("open", "paused", "closed")

# -- people (dashboard accounts) -----------------------------------------------
USER_ROLES = ("admin", "supervisor", "verifier")
#: Accounts that see the whole office: dashboard, reports, every counter's panel.
STAFF_ROLES = ("admin", "supervisor")

# -- devices -----------------------------------------------------------------
#: Roles of HTTP device tokens (``lalopa server token``).
TOKEN_ROLES = ("kiosk", "panel", "display", "button", "admin")
#: Token roles that act on a counter and so may be bound to one.
BINDABLE_TOKEN_ROLES = ("panel", "button")
#: Roles of bus clients (presence topics, broker users).
BUS_ROLES = ("server", "kiosk", "display", "button", "panel")

# -- satisfaction ----------------------------------------------------------------
#: The answer scale of the satisfaction survey (PermenPANRB 14/2017: 1 = not good ..
#: 4 = very good); the counters' smiley pads use the same four faces.
IKM_SCALE = (1, 2, 3, 4)
