"""The smiley pads' votes from the bus into the survey store.

The bridge subscribes ``counter/+/smiley`` and hands every message here
(:func:`on_vote`), on its worker thread. A vote is stored once per id
(``server.survey.record_vote``); a retained, malformed, mismatched or
unknown-counter vote is dropped and counted in the bridge's stats, like a bad
command. The device recorded is the credential's (``bus:loket-<n>``): only
counter n's own box may write that topic (broker/acl.py), whatever the
payload's ``device`` says.
"""
from __future__ import annotations

import logging

from broker.bus import Incoming
from broker.protocol import ProtocolError, SmileyVote, decode
from server.errors import QueueError
from server.intake import bus_device
from server.survey import record_vote

log = logging.getLogger(__name__)


def on_vote(bridge, msg: Incoming) -> None:
    """Apply one smiley-pad message (the bridge's handler for ``counter/+/smiley``)."""
    counter = bridge.topics.counter_of(msg.topic)
    if not msg.payload or counter is None:
        return
    if msg.retain:   # a retained vote would be counted again on every reconnect
        return bridge._reject("retained_vote", "retained smiley vote", msg.topic)
    try:
        vote = decode(SmileyVote, msg.payload)
    except ProtocolError as exc:
        return bridge._reject("malformed", exc.reason, msg.topic)
    if vote.counter != counter or bridge.site.counter(counter) is None:
        return bridge._reject("unauthorised", f"vote {vote.id} for counter {vote.counter} on {msg.topic}",
                              msg.topic)
    try:
        result = record_vote(bridge.svc, vote_id=vote.id, counter=counter, score=vote.score,
                             device=bus_device(counter))
    except QueueError as exc:   # e.g. the disk is full: counted, the bridge goes on
        bridge.stats["refused"] += 1
        log.info("smiley vote %s refused: %s", vote.id, exc.code)
        return
    bridge.stats["vote_duplicate" if result["duplicate"] else "votes"] += 1
