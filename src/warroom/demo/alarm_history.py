"""CloudWatch DescribeAlarmHistory inside the offline account (moto has none).

Every alarm's ConfigurationUpdate, StateUpdate and Action items, recorded from what the
account does (PutMetricAlarm, and every state change), answered newest first with AWS's
filters and paging.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from warroom.demo.wire import backend_state, service_error

_lock = threading.Lock()
_sequence = itertools.count()  # orders history items recorded within the same microsecond


def install() -> None:
    """Record alarm history in moto's CloudWatch backend and answer DescribeAlarmHistory."""
    from moto.cloudwatch.models import Alarm, CloudWatchBackend
    from moto.cloudwatch.responses import CloudWatchResponse

    CloudWatchBackend.put_metric_alarm = _alarm_configured(CloudWatchBackend.put_metric_alarm)  # type: ignore[method-assign]
    Alarm.update_state = _alarm_state_changed(Alarm.update_state)  # type: ignore[method-assign]
    CloudWatchResponse.describe_alarm_history = _describe_alarm_history  # type: ignore[attr-defined]


def _utc_naive(value: Any) -> dt.datetime | None:
    """moto keeps naive UTC datetimes; requests may carry aware ones or epoch numbers."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value, dt.UTC).replace(tzinfo=None)
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


@dataclass
class HistoryItem:
    """One DescribeAlarmHistory item, as AWS records it."""

    alarm_name: str
    alarm_type: str
    timestamp: dt.datetime
    kind: str  # ConfigurationUpdate | StateUpdate | Action
    summary: str
    data: dict[str, Any]
    order: int = field(default_factory=lambda: next(_sequence))

    def shape(self) -> dict[str, Any]:
        return {"AlarmName": self.alarm_name, "AlarmType": self.alarm_type, "Timestamp": self.timestamp,
                "HistoryItemType": self.kind, "HistorySummary": self.summary,
                "HistoryData": json.dumps(self.data)}


def _history(backend: Any) -> list[HistoryItem]:
    """The region's alarm history: kept on the backend, so a reset forgets it, but not on the
    alarm, since AWS keeps a deleted alarm's history."""
    return backend_state(backend, "warroom_alarm_history", list)


def _alarm_type(alarm: Any) -> str:
    return "CompositeAlarm" if getattr(alarm, "rule", None) else "MetricAlarm"


def _alarm_config(alarm: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "alarmName": alarm.name, "alarmArn": alarm.alarm_arn, "alarmDescription": alarm.description,
        "actionsEnabled": alarm.actions_enabled, "alarmActions": list(alarm.alarm_actions or []),
        "okActions": list(alarm.ok_actions), "insufficientDataActions": list(alarm.insufficient_data_actions),
    }
    if getattr(alarm, "rule", None):
        return {**config, "alarmRule": alarm.rule}
    return {**config, "namespace": alarm.namespace, "metricName": alarm.metric_name,
            "dimensions": [{"name": d.name, "value": d.value} for d in alarm.dimensions],
            "statistic": alarm.statistic, "extendedStatistic": alarm.extended_statistic,
            "period": alarm.period, "evaluationPeriods": alarm.evaluation_periods,
            "threshold": alarm.threshold, "comparisonOperator": alarm.comparison_operator,
            "treatMissingData": alarm.treat_missing_data}


def _alarm_configured(original: Callable[..., Any]) -> Callable[..., Any]:
    def put_metric_alarm(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        before = self.alarms.get(name)
        old = _alarm_config(before) if before is not None else None
        alarm = original(self, name, *args, **kwargs)
        now = _alarm_config(alarm)
        verb, data = (("created", {"type": "Create", "version": "1.0", "createdAlarm": now}) if old is None else
                      ("updated", {"type": "Update", "version": "1.0", "originalAlarm": old, "updatedAlarm": now}))
        item = HistoryItem(name, _alarm_type(alarm), alarm.configuration_updated_timestamp,
                           "ConfigurationUpdate", f'Alarm "{name}" {verb}', data)
        with _lock:
            _history(self).append(item)
        return alarm

    return put_metric_alarm


def _alarm_state_changed(original: Callable[..., None]) -> Callable[..., None]:
    """Every state change goes through Alarm.update_state: record it, and the actions it runs."""
    def update_state(self: Any, reason: str, reason_data: str, state_value: str) -> None:
        old_value, old_reason = self.state_value, self.state_reason
        original(self, reason, reason_data, state_value)
        if old_value == state_value:  # AWS records transitions, not a state set again
            return
        from moto.cloudwatch.models import cloudwatch_backends

        backend = cloudwatch_backends[self.alarm_arn.split(":")[4]][self.region_name]
        when = self.state_updated_timestamp
        new_state: dict[str, Any] = {"stateValue": state_value, "stateReason": reason}
        if reason_data:
            try:
                new_state["stateReasonData"] = json.loads(reason_data)
            except ValueError:
                pass
        items = [HistoryItem(self.name, _alarm_type(self), when, "StateUpdate",
                             f"Alarm updated from {old_value} to {state_value}",
                             {"version": "1.0", "oldState": {"stateValue": old_value, "stateReason": old_reason},
                              "newState": new_state})]
        actions = {"ALARM": self.alarm_actions, "OK": self.ok_actions,
                   "INSUFFICIENT_DATA": self.insufficient_data_actions}.get(state_value) or []
        if self.actions_enabled:
            for action in actions:
                items.append(_action_item(self, action, when))
        with _lock:
            _history(backend).extend(items)

    return update_state


def _action_item(alarm: Any, action: str, when: dt.datetime) -> HistoryItem:
    """An alarm action's outcome: it fails when its SNS topic or Lambda function is missing."""
    found = _action_target_exists(action)
    millis = int(when.replace(tzinfo=dt.UTC).timestamp() * 1000)
    if found:
        summary = f"Successfully executed action {action}"
        data: dict[str, Any] = {"actionState": "Succeeded", "stateUpdateTimestamp": millis,
                                "notificationResource": action}
    else:
        summary = f"Failed to execute action {action}. Received error: \"Resource not found.\""
        data = {"actionState": "Failed", "stateUpdateTimestamp": millis, "notificationResource": action,
                "error": "Resource not found."}
    return HistoryItem(alarm.name, _alarm_type(alarm), when, "Action", summary, data)


def _action_target_exists(action: str) -> bool:
    parts = action.split(":")
    if len(parts) < 6:
        return False
    service, region, account = parts[2], parts[3], parts[4]
    if service == "sns":
        from moto.sns.models import sns_backends

        return action in sns_backends[account][region].topics
    if service == "lambda":
        from moto.awslambda.models import lambda_backends

        name = parts[6] if len(parts) > 6 else ""
        return bool(name) and lambda_backends[account][region]._lambdas.get_function_by_name(name) is not None
    return True  # EC2, Auto Scaling and SSM actions: moto keeps no state to fail them against


def _describe_alarm_history(self: Any) -> Any:
    """CloudWatch DescribeAlarmHistory, newest first unless ScanBy says otherwise."""
    from moto.core.responses import ActionResult

    name = self._get_param("AlarmName")
    types = self._get_param("AlarmTypes") or ["MetricAlarm"]
    kind = self._get_param("HistoryItemType")
    start = _utc_naive(self._get_param("StartDate"))
    end = _utc_naive(self._get_param("EndDate"))
    scan_by = self._get_param("ScanBy") or "TimestampDescending"
    limit = int(self._get_param("MaxRecords") or 100)
    token = self._get_param("NextToken")
    if not 1 <= limit <= 100:
        raise service_error("InvalidParameterValue", "The parameter MaxRecords must be between 1 and 100.")
    if kind and kind not in ("ConfigurationUpdate", "StateUpdate", "Action", "AlarmContributorStateUpdate",
                             "AlarmContributorAction"):
        raise service_error("ValidationError", f"Value '{kind}' at 'historyItemType' failed to satisfy constraint")
    with _lock:
        items = [i for i in _history(self.cloudwatch_backend)
                 if (not name or i.alarm_name == name) and i.alarm_type in types
                 and (not kind or i.kind == kind)
                 and (start is None or i.timestamp >= start) and (end is None or i.timestamp <= end)]
    items.sort(key=lambda i: (i.timestamp, i.order), reverse=scan_by != "TimestampAscending")
    offset = 0
    if token:
        if not token.isdigit() or int(token) > len(items):
            raise service_error("InvalidNextToken", "The service returned an error: invalid NextToken.")
        offset = int(token)
    page = items[offset:offset + limit]
    result: dict[str, Any] = {"AlarmHistoryItems": [i.shape() for i in page]}
    if offset + limit < len(items):
        result["NextToken"] = str(offset + limit)
    return ActionResult(result)
