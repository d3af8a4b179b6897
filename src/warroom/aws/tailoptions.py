"""What a LogTail is told (`TailOptions`) and what it tells (`TailStats`, `ReadStats`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from warroom.aws.pacing import Backoff


@dataclass
class TailOptions:
    """How a LogTail reads; times in seconds unless named _ms."""

    since_ms: int | None = None        # first timestamp to show; None: from now
    follow: bool = True                # False: read up to now once, then end
    filter_pattern: str | None = None  # passed to the server as is
    poll_interval: float = 0.5         # between polls of a group that had new events
    idle_interval: float = 2.0         # at most, for a quiet group
    overlap: float = 1.0               # below the newest timestamp, re-read on every poll
    # When the overlap would fill most of a page (a busy group), a head poll re-reads
    # less of it, down to this; the next sweep then re-reads the part it skipped.
    min_overlap: float = 0.2
    late_window: float = 10.0          # re-read by a sweep every `late_every` seconds
    late_every: float = 10.0
    max_remembered: int = 300_000      # per group: sweeps narrow so ids stay under this
    rediscover_every: float = 30.0     # re-list log groups to find new ones
    live_tail: bool = True             # False: poll only (Live Tail is billed by the minute)
    live_groups: int = 10              # per session (AWS's limit)
    live_sessions: int = 15            # at most (AWS's per-account limit)
    live_renew_after: float = 2 * 3600 + 50 * 60  # before AWS ends a session at 3 h
    live_retry_after: float = 60.0     # after LimitExceededException, try for a session again
    filter_budget: float = 1.0         # FilterLogEvents calls a second, all paths together
    insights_every: float = 5.0        # s between Logs Insights reads of groups without a session
    # With more groups than session places: how often the busiest and priority groups are
    # given the sessions again, over how much recent traffic, and how clearly a group must
    # beat one holding a session to take its place (see aws/assignment.py).
    assign_every: float = 60.0
    activity_window: float = 300.0
    assign_margin: float = 2.0
    widen_backfill: float = 900.0      # s: the most a widened filter pattern reads back
    merge_since: bool = True           # with since_ms: hold events until every group caught up
    # With merge_since: False holds only what is older than `live_reach` seconds before the
    # tail's start (the backfill, handed on in one time-ordered block once every group caught
    # up); the rest goes at once, so that what just happened is not held behind the history.
    hold_live: bool = True
    live_reach: float = 60.0
    hold_limit: int = 200_000          # events held at most: past it, what is held goes on, in order
    page_limit: int = 10_000
    queue_batches: int = 256           # batches waiting for the consumer (back-pressure)
    startup_attempts: int = 4          # transient failures tolerated before giving up at start
    rates: dict[str, float] = field(default_factory=dict)  # per-API rate overrides
    backoff: Backoff = field(default_factory=Backoff)


@dataclass
class TailStats:
    """A snapshot for the status bar."""

    events: int = 0
    events_per_s: float = 0.0
    throttled: int = 0
    errors: int = 0
    reconnects: int = 0
    groups: int = 0
    remembered_ids: int = 0
    mode: str = "starting"  # "live", "live+poll", "poll" or "starting"
    live_sessions: int = 0
    live_groups: int = 0
    live_events: int = 0         # events Live Tail updates carried
    sampled: bool = False        # an update came sampled in the last SAMPLED_SHOWN seconds
    backfilling: int = 0         # groups with a window still to backfill
    insights_groups: int = 0     # groups without a session, read by Logs Insights queries
    filter_calls: int = 0        # FilterLogEvents calls made
    live_refused: str | None = None
    insights_filtered: bool = False  # Insights reads keep only lines holding a symptom's literal
    assigned_by: str = ""            # what ranked the groups for sessions: "activity", "last event"


@dataclass
class ReadStats:
    """What the tail asked for: calls, and events read against events delivered."""

    head_polls: int = 0
    sweeps: int = 0
    calls: int = 0              # FilterLogEvents calls answered (pages)
    events_read: int = 0        # events in those answers
    sweep_events_read: int = 0
    delivered: int = 0
    call_seconds: float = 0.0   # wall time of the answered calls, pacing waits included
    narrowed_polls: int = 0     # head polls that re-read less than `overlap`
