"""Sources speak in events; only the UI thread's drain writes the store (issue 14 item 4)."""

from __future__ import annotations

import asyncio
import threading

from tests.tui_helpers import TARGET, catalog, screen_text, until
from warroom.incident import source_events as ev
from warroom.incident.records import Finding, Record, Resource
from warroom.incident.store import IncidentStore
from warroom.tui.app import ConsoleApp
from warroom.tui.source_thread import Feed, Post, run_on_thread
from warroom.tui.statusbar import StatusBar

TAIL, CHECK = "log tail", "health check"
GROUP = "/aws/lambda/bos-dev-agent-persona"


def line(i: int, message: str = "hello") -> Record:
    return Record("logs", GROUP, "s", 1_714_558_500_000 + i, f"e{i}", message)


def every_kind() -> list[ev.SourceEvent]:
    """One event of each kind, in an order a real run could produce."""
    function = Resource("function", "bos-dev-agent-persona", service="lambda", log_group=GROUP)
    finding = Finding("lambda-timeout", "bos-dev-agent-persona", "function", "Duration at the limit",
                      1_714_558_500_000, "metric")
    return [ev.Starting("simulated account", "starting the simulated AWS account"),
            ev.Ready("simulated account", "up", "http://127.0.0.1:1234"),
            ev.Records(TAIL, [line(1), line(2)]),
            ev.Throttled(TAIL, 3),
            ev.TailStatus(TAIL, live_sessions=2, live_groups=14, filter_rate=0.4, filter_budget=1.0),
            ev.Sampled(TAIL, True, live=1_204, backfilling=3),
            ev.Stalled(TAIL, "log tail 12 s behind: the lines shown are late"),
            ev.CheckResult(CHECK, [function], [finding], ["iam:ListRoles denied"], [line(0, "deploy")]),
            ev.Failed(CHECK, "health check: the endpoint does not answer")]


def test_the_store_applies_each_kind_per_source() -> None:
    store = IncidentStore(catalog())
    for event in every_kind():
        store.apply(event)
    tail, check, demo = store.sources[TAIL], store.sources[CHECK], store.sources["simulated account"]
    assert [r.event_id for r in store.pending] == ["e1", "e2", "e0"]
    assert tail.connection == "stalled" and tail.throttled == 3
    assert tail.reads == "Live Tail 2×14 · sampled: 1,204 live, backfilling 3 · FilterLogEvents 0.4/1 per s"
    assert check.connection == "failing" and check.errors == 1
    assert demo.connection == "ok" and store.address == "http://127.0.0.1:1234"
    assert [r.name for r in store.resources] == ["bos-dev-agent-persona"]
    assert ("lambda-timeout", "bos-dev-agent-persona") in store.findings
    assert store.warnings == ["iam:ListRoles denied"]
    # Summed and summarised: the worst source shows, naming itself; throttles add up.
    assert (store.stats.connection, store.stats.failing) == ("failing", CHECK)
    assert store.stats.message == "health check: the endpoint does not answer"
    assert store.stats.throttled == 3 and store.stats.logs == tail.reads
    # The check working again does not hide the tail that is still behind.
    store.apply(ev.CheckResult(CHECK))
    assert store.sources[CHECK].connection == "recovered"
    assert (store.stats.connection, store.stats.failing) == ("stalled", TAIL)
    store.apply(ev.Ok(TAIL))
    assert store.stats.connection == "recovered"


def test_a_stopped_source_no_longer_counts() -> None:
    store = IncidentStore()
    store.apply(ev.Ok(CHECK))
    store.apply(ev.Failed("log tail eu-west-1", "log tail: refused"))
    assert store.stats.connection == "failing"
    store.forget_source("log tail eu-west-1")
    assert store.stats.connection == "ok" and list(store.sources) == [CHECK]


async def test_events_from_another_thread_wait_for_the_ui_drain() -> None:
    store = IncidentStore(catalog())
    app = ConsoleApp(store, TARGET, timers=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        posted = threading.Thread(target=lambda: [app.inbox.post(e) for e in every_kind()])
        posted.start()
        posted.join()
        # Posted, not applied: nothing a source said has reached the store or the screen.
        assert len(app.inbox) == len(every_kind())
        assert not store.sources and not store.pending and not store.findings and not store.resources
        assert store.stats.connection == "connecting" and store.ring.next == 0
        app.pump()  # the UI thread's drain (10 times a second with timers on)
        assert not len(app.inbox)
        assert set(store.sources) == {TAIL, CHECK, "simulated account"}
        assert store.ring.next == 3 and ("lambda-timeout", "bos-dev-agent-persona") in store.findings
        await pilot.pause()
        status = str(app.main.query_one(StatusBar).render())
        assert "health check: the endpoint does not answer" in status
        assert "3 throttled" in status and "sampled: 1,204 live, backfilling 3" in status
        assert "bos-dev-agent-persona" in screen_text(app)


async def test_the_tail_is_named_when_its_state_is_shown() -> None:
    store = IncidentStore()
    app = ConsoleApp(store, TARGET, timers=False)
    async with app.run_test(size=(160, 48)) as pilot:
        app.inbox.post(ev.Ok(CHECK))
        app.inbox.post(ev.Failed(TAIL, "AWS credentials expired at 10:02; run `aws sso login`"))
        app.inbox.post(ev.Failed("log tail eu-west-1", "log tail: refused"))
        app.pump()
        await pilot.pause()
        status = str(app.main.query_one(StatusBar).render())
        assert "✗ log tail: AWS credentials expired at 10:02" in status
        assert "(and 1 more failing)" in status


async def test_a_source_runs_on_its_own_thread_and_its_error_is_posted() -> None:
    threads: list[str] = []
    inbox = ev.Inbox()

    async def broken(post: Post) -> None:
        threads.append(threading.current_thread().name)
        post(ev.Ok("broken"))
        raise RuntimeError("no such group")

    await run_on_thread(Feed("broken", broken), inbox.post, lambda exc: f"broken: {exc}")
    assert threads == ["warroom-broken"]
    assert inbox.take() == [ev.Ok("broken"), ev.Failed("broken", "broken: no such group")]


async def test_cancelling_a_source_stops_its_thread() -> None:
    started, stopped = threading.Event(), threading.Event()

    async def forever(post: Post) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()

    task = asyncio.create_task(run_on_thread(Feed("forever", forever), ev.Inbox().post))
    await asyncio.get_running_loop().run_in_executor(None, started.wait, 20)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert stopped.is_set()
    assert not any(t.name == "warroom-forever" for t in threading.enumerate())


async def test_the_console_shows_a_failing_source_without_raising() -> None:
    store = IncidentStore()

    async def broken(post: Post) -> None:
        raise RuntimeError("boom")

    app = ConsoleApp(store, TARGET, feeds=[Feed("broken", broken)])
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: store.stats.connection == "failing", "the failure shown")
        assert store.stats.failing == "broken" and store.stats.message == "boom"


def test_a_recovered_source_is_ok_again_after_a_while_without_news() -> None:
    now = [1_000.0]
    store = IncidentStore(clock=lambda: now[0])
    store.apply(ev.Failed(CHECK, "health check: timed out"))
    store.apply(ev.CheckResult(CHECK))
    assert store.stats.connection == "recovered"
    now[0] += 5
    store.tick()
    assert store.stats.connection == "recovered"
    now[0] += 10
    store.tick()
    assert store.stats.connection == "ok" and store.sources[CHECK].connection == "ok"


async def test_the_first_check_round_tells_the_resources_before_its_probes(moto) -> None:  # type: ignore[no-untyped-def]
    """A finding the tail sees in the first seconds needs its owner: the check posts what it
    discovered at once, before the round's probes, metrics and alarms end."""
    import boto3

    from warroom.aws.session import AwsOptions, AwsSession
    from warroom.tui.feeds import check_feed

    logs = boto3.client("logs", endpoint_url=moto.endpoint, region_name="us-east-1")
    logs.create_log_group(logGroupName=GROUP)
    inbox = ev.Inbox()
    seen: list[ev.SourceEvent] = []
    session = AwsSession(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1"))
    task = asyncio.create_task(check_feed(inbox.post, session, catalog(), every=3600))
    try:
        deadline = asyncio.get_running_loop().time() + 60  # a bound against hanging, not a speed check
        while not any(isinstance(e, ev.CheckResult) for e in seen):
            assert asyncio.get_running_loop().time() < deadline, "no check round ended"
            await asyncio.sleep(0.05)
            seen.extend(inbox.take())
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await session.aclose()
    kinds = [type(e).__name__ for e in seen if isinstance(e, ev.Discovered | ev.CheckResult)]
    assert kinds == ["Discovered", "CheckResult"]
    discovered = next(e for e in seen if isinstance(e, ev.Discovered))
    assert GROUP in {r.name for r in discovered.resources}
    store = IncidentStore(catalog())
    store.apply(discovered)
    assert GROUP in {r.name for r in store.resources}
