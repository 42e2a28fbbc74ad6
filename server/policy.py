"""Which waiting ticket a counter calls next.

The rule, in order:

1. A counter looks at its services in its preference order and takes the
   first service that has anyone waiting.
2. Within that service tickets form two classes, normal and priority
   (``broker.vocab.PRIORITIES``); each class is FIFO by ``queue_order``.
3. Between the classes the site's named policy decides:

   * ``strict``: priority first whenever a priority ticket waits. This can
     STARVE normal tickets: while priority tickets keep arriving at least as
     fast as the counters call them, no normal ticket is ever called. Use
     ``interleave`` unless priority arrivals are known to be rare (the first
     site uses interleave).
   * ``interleave`` (ratio N): after N normal calls in this service the next
     call goes to a waiting priority ticket; a priority ticket is called at
     once if no normal ticket waits. So while both classes wait the calls
     run P, N×normal, P, N×normal, … and nobody waits forever.

The interleave counter (normal calls since the last priority call) is kept
per service and day in the ``state`` table so it survives restarts. Each day
starts "priority due": the first priority ticket of the day is called first.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Choice:
    ticket_id: int
    priority_class: bool  # True when the call went to the priority class


def choose(policy: str, ratio: int, streak: int,
           first_normal: int | None, first_priority: int | None) -> Choice | None:
    """Pick between the heads of the two FIFO classes (ticket ids or None)."""
    if first_priority is None and first_normal is None:
        return None
    if first_priority is None:
        return Choice(first_normal, False)
    if first_normal is None:
        return Choice(first_priority, True)
    if policy == "strict" or streak >= ratio:
        return Choice(first_priority, True)
    return Choice(first_normal, False)


def next_streak(streak: int, choice: Choice) -> int:
    """Normal calls since the last priority call, after ``choice``."""
    return 0 if choice.priority_class else streak + 1
