"""A START that cannot connect, or that brings no frame, is told apart from one that works (issue #25, part 4)."""

from __future__ import annotations

from emotion.live.component import CONNECT_MESSAGE, CONNECT_SECONDS, STALL_MESSAGE, STALL_SECONDS, Connection


def test_a_start_that_connects_and_brings_frames_is_no_trouble():
    connection = Connection(since=0.0, frames=10)
    connection.seen(playing=False, signalling=True, now=0.1)
    connection.seen(playing=True, signalling=False, now=0.5)
    assert connection.trouble(frames=10, now=2.0) is None  # connected, the first frame is on its way
    assert connection.trouble(frames=11, now=60.0) is None and not connection.waiting(frames=11)


def test_a_start_that_never_connects_is_told_after_a_few_seconds():
    """As behind a firewall that blocks UDP, with no TURN server: the browser keeps trying and never says so."""
    connection = Connection(since=0.0, frames=0)
    connection.seen(playing=False, signalling=True, now=0.2)
    assert connection.trouble(frames=0, now=CONNECT_SECONDS - 0.5) is None and connection.waiting(frames=0)
    assert connection.trouble(frames=0, now=CONNECT_SECONDS + 0.5) == CONNECT_MESSAGE
    assert connection.waiting(frames=0)  # a late connection would still take the advice away


def test_a_start_the_browser_gave_up_on_is_told_at_once():
    """ICE failed: the component goes back to START without ever having connected."""
    connection = Connection(since=0.0, frames=3)
    connection.seen(playing=False, signalling=True, now=0.2)
    connection.seen(playing=False, signalling=False, now=2.0)
    assert connection.trouble(frames=3, now=2.0) == CONNECT_MESSAGE
    assert not connection.waiting(frames=3)  # nothing will change until the user acts


def test_a_connection_that_brings_no_frame_is_told_with_both_ways_on():
    connection = Connection(since=0.0, frames=5)
    connection.seen(playing=True, signalling=False, now=1.0)
    assert connection.trouble(frames=5, now=1.0 + STALL_SECONDS - 0.5) is None
    assert connection.trouble(frames=5, now=1.0 + STALL_SECONDS + 0.5) == STALL_MESSAGE
    assert "this device" in STALL_MESSAGE and "STOP" in STALL_MESSAGE
    assert connection.trouble(frames=6, now=30.0) is None  # frames came after all


def test_the_messages_are_plain_text():
    for message in (CONNECT_MESSAGE, STALL_MESSAGE):
        assert not any(mark in message for mark in ("**", "`", "[", "<")), message
