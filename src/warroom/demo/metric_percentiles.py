"""CloudWatch GetMetricData with a percentile statistic (`p95`, `p99.9`...) inside the offline
account: moto answers a 500; AWS computes it from the raw values of each period."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

_PERCENTILE = re.compile(r"p(100|\d{1,2}(?:\.\d{1,2})?)")  # pNN.NN, as AWS documents


def install() -> None:
    """Teach moto's CloudWatch statistics the percentiles."""
    from moto.cloudwatch.models import CloudWatchBackend, Statistics

    Statistics.get_statistics_for_type = _with_percentiles(Statistics.get_statistics_for_type)  # type: ignore[method-assign]
    CloudWatchBackend.get_metric_data = _without_missing_values(CloudWatchBackend.get_metric_data)  # type: ignore[method-assign]


def percentile(values: list[float], rank: float) -> float | None:
    """The nearest-rank percentile of raw values; None where AWS has none (no values, or a
    negative one: AWS gives no percentiles for metrics with negative values)."""
    if not values or min(values) < 0:
        return None
    ordered = sorted(values)
    index = max(0, math.ceil(rank / 100 * len(ordered)) - 1)
    return ordered[min(index, len(ordered) - 1)]


def _raw_values(metric_data: list[Any]) -> list[float] | None:
    """The raw values of a period. A statistic set has none, except (as AWS documents) one with
    SampleCount 1 (its value is its Sum) or with Minimum equal to Maximum (SampleCount copies of
    it). Any other statistic set leaves the period without percentiles."""
    values: list[float] = []
    for datum in metric_data:
        if hasattr(datum, "value"):
            values.append(float(datum.value))
        elif datum.sample_count == 1:
            values.append(float(datum.sum))
        elif datum.min == datum.max:
            values.extend([float(datum.min)] * max(1, round(datum.sample_count)))
        else:
            return None
    return values


def _with_percentiles(original: Callable[..., Any]) -> Callable[..., Any]:
    def get_statistics_for_type(self: Any, stat: str) -> Any:
        found = _PERCENTILE.fullmatch(stat)
        if found is None:
            return original(self, stat)
        values = _raw_values(self.metric_data)
        return None if values is None else percentile(values, float(found.group(1)))

    return get_statistics_for_type


def _without_missing_values(original: Callable[..., list[dict[str, Any]]]) -> Callable[..., list[dict[str, Any]]]:
    """A period without a value for the statistic (a percentile over statistic sets) has no
    datapoint on AWS; moto would put a None there and fail to serialise the answer."""
    def get_metric_data(self: Any, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        results = original(self, *args, **kwargs)
        for result in results:
            pairs = [(v, t) for v, t in zip(result["values"], result["timestamps"], strict=True) if v is not None]
            result["values"] = [v for v, _ in pairs]
            result["timestamps"] = [t for _, t in pairs]
        return results

    return get_metric_data
