"""The same read in several regions at once, one session per region."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from warroom.aws.health import Checker, CheckResult, ordered, preflight
from warroom.aws.scope import Scope, merge_warnings
from warroom.aws.session import AwsOptions, AwsSession
from warroom.errors import UserError
from warroom.incident.records import Resource
from warroom.playbook.cache import catalog_matcher
from warroom.playbook.catalog import Catalog

T = TypeVar("T")


async def each_region(options: Sequence[AwsOptions],
                      work: Callable[[AwsSession, bool], Awaitable[T]]) -> list[tuple[str, T]]:
    """(region, `work(session, first)`) for each of `options`, in their order, run concurrently.

    `first` is true in the first region only: global services (IAM) are read there, once.

    Each region is preflighted first. A region that fails fails the whole read, named in
    the line when there are several: a missing region is not the whole story.
    """

    async def one(opts: AwsOptions) -> tuple[str, T]:
        await preflight(opts)
        async with AwsSession(opts) as session:
            return session.region or "", await work(session, opts is options[0])

    results = await asyncio.gather(*(one(o) for o in options), return_exceptions=True)
    for opts, result in zip(options, results, strict=True):
        if isinstance(result, BaseException):
            if len(options) > 1 and isinstance(result, UserError):
                raise UserError(f"{opts.region}: {result}") from result
            raise result
    return results  # type: ignore[return-value] - no exceptions past the loop


def combine(results: Sequence[tuple[str, CheckResult]], catalog: Catalog) -> CheckResult:
    """One result from each region's; warnings name their region when there are several."""
    out = CheckResult()
    for _, result in results:
        out.resources += result.resources
        out.findings += result.findings
        out.records += result.records
    out.warnings = merge_warnings([(region, result.warnings) for region, result in results])
    out.findings = ordered(catalog, out.findings)
    return out


class RegionalChecker:
    """A Checker per session (one per region), run at once; their results as one."""

    def __init__(self, sessions: Sequence[AwsSession], catalog: Catalog, scope: Scope) -> None:
        self.catalog = catalog
        matcher = catalog_matcher(catalog)  # one for every region: the same playbooks
        self.checkers = [Checker(s, catalog, scope=scope, matcher=matcher) for s in sessions]

    async def run_once(self, discovered: Callable[[list[Resource]], None] | None = None) -> CheckResult:
        """Every region's check at once; `discovered` hears every region's resources together,
        as soon as the last region's are read."""
        found: dict[int, list[Resource]] = {}

        def one_region(n: int) -> Callable[[list[Resource]], None]:
            def heard(resources: list[Resource]) -> None:
                found[n] = resources
                if discovered is not None and len(found) == len(self.checkers):
                    discovered([r for k in sorted(found) for r in found[k]])
            return heard

        results = await asyncio.gather(*(c.run_once(discovered=one_region(n)) for n, c in enumerate(self.checkers)))
        return combine([(c.session.region or "", r) for c, r in zip(self.checkers, results, strict=True)],
                       self.catalog)
