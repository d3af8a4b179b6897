"""Ranking log groups for the Live Tail session places: priority first, then activity.

Activity is the AWS/Logs IncomingLogEvents metric over `activity_window`; where
GetMetricData is denied, fails or has no datapoint, it is the groups' last event time:
what the tail itself delivered for the groups it reads whole, one DescribeLogStreams per
group for the others (the groups whose Insights reads are filtered).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from warroom.aws.activity import incoming_events, last_event_times
from warroom.aws.assignment import EVENTS, RECENCY, Activity, Hysteresis, choose
from warroom.aws.pacing import Pacer
from warroom.aws.session import AwsSession
from warroom.aws.tailoptions import TailOptions

# Calls a second for reading activity: far under GetMetricData's quota (50/s), and a
# fifth of DescribeLogStreams' (5/s), which the account's other tools share.
ASSIGN_RATES: dict[str, float] = {"GetMetricData": 5.0, "DescribeLogStreams": 1.0}
BY_METRIC = "activity"
BY_LAST_EVENT = "last event"


class SessionPlaces:
    """Decides which groups hold the session places (`choose`); `priority` is the caller's."""

    def __init__(self, session: AwsSession, pacer: Pacer, options: TailOptions) -> None:
        self._session = session
        self.pacer = pacer
        self.options = options
        self.priority: set[str] = set()
        self.by = ""                        # what ranked the groups last: BY_METRIC or BY_LAST_EVENT
        self.metric_error: str | None = None  # why the metric could not be read, last time

    async def activity(self, names: Sequence[str], logs: Any, known_last: Mapping[str, float],
                       now_ms: int) -> Activity:
        """The metric where it can be read; else last event times (`known_last` for the
        groups whose every event the tail delivered, looked up for the others)."""
        try:
            cloudwatch = await self._session.client("cloudwatch")
            counts = await incoming_events(cloudwatch, self.pacer, names, now_ms,
                                           self.options.activity_window)
        except Exception as exc:  # noqa: BLE001 - denied, failing: the fallback below
            counts = None
            self.metric_error = f"{type(exc).__name__}: {exc}"[:200]
        else:
            self.metric_error = None if counts is not None else "no IncomingLogEvents datapoint"
        if counts is not None:
            self.by = BY_METRIC
            return Activity(EVENTS, counts)
        self.by = BY_LAST_EVENT
        unknown = [n for n in names if n not in known_last]
        found = await last_event_times(logs, self.pacer, unknown) if unknown else {}
        return Activity(RECENCY, {**{n: t for n, t in known_last.items() if t}, **found})

    async def choose(self, names: Sequence[str], current: Collection[str], capacity: int, logs: Any,
                     known_last: Mapping[str, float], now_ms: int) -> set[str]:
        """The groups that should hold the `capacity` places now."""
        activity = await self.activity(names, logs, known_last, now_ms)
        rule = Hysteresis(margin=self.options.assign_margin,
                          recency_ms=self.options.assign_every * 1000)
        return choose(names, current, capacity, self.priority, activity, rule)
