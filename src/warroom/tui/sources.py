"""The console's sources as the settings make them: a log tail per region and one health
check over every region, within the scope.

`:scope`, `:region` and `:profile` make new settings; each source is keyed by its
arguments, so only the sources whose arguments changed are stopped and started again.
Each source runs on a thread of its own and only posts events (`source_thread`).
No Textual here, as in `feeds`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from warroom.aws.discovery import discover
from warroom.aws.health import preflight
from warroom.aws.scope import Scope
from warroom.aws.session import AwsOptions, AwsSession
from warroom.aws.tail_worker import Recognise
from warroom.config import Settings
from warroom.errors import UserError
from warroom.incident import source_events as ev
from warroom.playbook.catalog import Catalog
from warroom.tui.feeds import CHECK, CHECK_EVERY, check_feed, tail_feed
from warroom.tui.source_thread import Feed, Post


@dataclass(frozen=True)
class Sources:
    """What the sources need besides the settings: the playbooks, `--group`, `--since`."""

    catalog: Catalog
    groups: tuple[str, ...] = ()     # log groups to follow; default: the scope's prefixes, else all
    since_ms: int | None = None
    check_every: float = CHECK_EVERY
    engine: str = "auto"             # the tail's matcher engine

    def feeds(self, settings: Settings) -> dict[str, Feed]:
        """Each source under a key that changes exactly when its arguments do."""
        specs = self.groups or settings.scope.prefixes or ("",)
        scope = settings.scope if settings.scope.by_membership and not self.groups else None
        regional = settings.regional()
        out: dict[str, Feed] = {
            f"tail {options} {specs} {scope!r}": self._tail(
                options, specs, scope, f"log tail {options.region}" if len(regional) > 1 else "log tail")
            for options in regional}
        out[f"check {regional} {settings.scope!r}"] = self._check(settings)
        return out

    def _tail(self, options: AwsOptions, specs: tuple[str, ...], scope: Scope | None, name: str) -> Feed:
        mailbox = ev.Mailbox()

        async def tail(post: Post) -> None:
            async with AwsSession(options) as session:
                names = specs if scope is None else await scope_log_groups(session, scope)
                if names:
                    await tail_feed(post, session, Recognise(tuple(self.catalog), self.engine), names,
                                    self.since_ms, source=name, mailbox=mailbox)
        return Feed(name, tail, mailbox=mailbox)

    def _check(self, settings: Settings) -> Feed:
        async def check(post: Post) -> None:
            async with AwsSession(settings.aws()) as session:
                await check_feed(post, session, self.catalog, every=self.check_every,
                                 scope=settings.scope, regions=settings.regional(), source=CHECK)
        return Feed(CHECK, check)


async def scope_log_groups(session: AwsSession, scope: Scope) -> tuple[str, ...]:
    """The log groups of a stack or tag scope: its own, and those its resources write to."""
    inventory = await discover(session, services=("lambda", "logs", "apigatewayv2", "codebuild"),
                               scope=scope)
    names = {r.name for r in inventory.of_kind("log_group")}
    names |= {r.log_group for r in inventory.resources if r.log_group}
    return tuple(sorted(names))


async def identify(settings: Settings) -> dict[str, str]:
    """Who the settings act as (the first region's answer), each region checked: a UserError
    names what would not work (no such profile, no credentials, an unreachable region)."""
    regional = settings.regional()
    identities = await asyncio.gather(*(preflight(options) for options in regional), return_exceptions=True)
    for options, identity in zip(regional, identities, strict=True):
        if isinstance(identity, UserError) and len(regional) > 1:
            raise UserError(f"{options.region}: {identity}") from identity
        if isinstance(identity, BaseException):
            raise identity
    return identities[0]  # type: ignore[return-value] - no exceptions past the loop
