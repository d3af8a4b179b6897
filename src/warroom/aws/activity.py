"""How busy log groups are: AWS/Logs IncomingLogEvents via GetMetricData, or their last event time.

GetMetricData answers up to 500 queries a call, one per group (the `LogGroupName`
dimension, Sum over 1-minute periods), without touching CloudWatch Logs' quotas. Where
it is denied or has no datapoint at all (the metric not published), each group's newest
stream says when its last event came (DescribeLogStreams ordered by LastEventTime).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from warroom.aws.pacing import Pacer

MAX_QUERIES = 500  # GetMetricData's limit per call
PERIOD = 60        # s: AWS/Logs publishes 1-minute datapoints
ATTEMPTS = 3       # a re-evaluation that cannot read activity keeps the current assignment


async def incoming_events(cloudwatch: Any, pacer: Pacer, names: Sequence[str], now_ms: int,
                          window_s: float) -> dict[str, float] | None:
    """Events each group took in over the last `window_s` (whole minutes, the current one
    included); None when no group has a datapoint. Errors (denied ones too) are raised."""
    end = dt.datetime.fromtimestamp(now_ms / 1000 // PERIOD * PERIOD + PERIOD, dt.timezone.utc)
    minutes = max(1, int(-(-window_s // PERIOD)))
    start = end - dt.timedelta(seconds=PERIOD * minutes)
    found: dict[str, float] = {}
    any_point = False
    for first in range(0, len(names), MAX_QUERIES):
        batch = list(names[first:first + MAX_QUERIES])
        queries = [{"Id": f"g{i}", "ReturnData": True, "MetricStat": {
            "Metric": {"Namespace": "AWS/Logs", "MetricName": "IncomingLogEvents",
                       "Dimensions": [{"Name": "LogGroupName", "Value": name}]},
            "Period": PERIOD, "Stat": "Sum"}} for i, name in enumerate(batch)]
        token: str | None = None
        while True:
            params: dict[str, Any] = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end}
            if token:
                params["NextToken"] = token
            answer = await pacer.call("GetMetricData", cloudwatch.get_metric_data,
                                      attempts=ATTEMPTS, **params)
            for result in answer.get("MetricDataResults") or []:
                qid = str(result.get("Id", ""))
                if not qid.startswith("g") or not qid[1:].isdigit() or int(qid[1:]) >= len(batch):
                    continue
                values = [float(v) for v in result.get("Values") or []]
                any_point = any_point or bool(values)
                name = batch[int(qid[1:])]
                found[name] = found.get(name, 0.0) + sum(values)
            token = answer.get("NextToken")
            if not token:
                break
    return found if any_point else None


async def last_event_times(logs: Any, pacer: Pacer, names: Sequence[str]) -> dict[str, float]:
    """The time (ms) of each group's last event, from its most recent stream; groups
    with no stream or no event are left out, groups that fail too."""
    found: dict[str, float] = {}
    for name in names:
        try:
            answer = await pacer.call("DescribeLogStreams", logs.describe_log_streams, attempts=ATTEMPTS,
                                      logGroupName=name, orderBy="LastEventTime", descending=True,
                                      limit=1)
        except Exception:  # noqa: BLE001 - a group deleted meanwhile, or denied: idle for now
            continue
        streams = answer.get("logStreams") or []
        last = streams[0].get("lastEventTimestamp") if streams else None
        if last:
            found[name] = float(last)
    return found
