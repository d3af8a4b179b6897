"""Running several record-producing AWS reads at once, each failure a warning naming it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence

from warroom.aws.session import AwsOptions, explain
from warroom.incident.records import Record


async def gather_records(jobs: Sequence[tuple[str, Awaitable[list[Record]]]],
                         options: AwsOptions) -> tuple[list[Record], list[str]]:
    """(label, read) pairs -> all records, and `label: why` for each read that failed."""
    results = await asyncio.gather(*(read for _, read in jobs), return_exceptions=True)
    records: list[Record] = []
    warnings: list[str] = []
    for (label, _), result in zip(jobs, results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(result, Exception):
                raise result
            warnings.append(f"{label}: {explain(result, options)}")
        else:
            records.extend(result)
    return records, warnings
