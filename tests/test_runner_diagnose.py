"""One diagnose: the guidance pane's read-only run is the runner's, with "needs" for what
nothing gave; captures are masked like what is shown; an API parameter gets the API's id."""

from __future__ import annotations

import textwrap

from warroom.aws.health import record_findings
from warroom.incident.attribution import named_resource, resource_captures
from warroom.incident.records import Record, Resource
from warroom.playbook.catalog import load_catalog
from warroom.playbook.loader import load_text
from warroom.playbook.matcher import Match
from warroom.playbook.types import misfit
from warroom.runner import Runner
from warroom.runner.diagnose import run_diagnose
from warroom.runner.masking import MASK

from tests.runner_support import ScriptedUser, boto, seed_function, session

ENV = {"DB_PASSWORD": "hunter2-but-longer", "LOG_LEVEL": "debug-level-x"}

# Step 1 reads the function and keeps its environment without showing it; step 2 needs
# a table nothing gives; step 3 is manual.
PLAYBOOK = textwrap.dedent("""\
    id: env-check
    title: Env check
    service: lambda
    severity: high
    sources: [{file: guide.md, section: A}]
    params:
      function: {description: the function, type: function_name, resource: function}
      table: {description: the table, type: table_name, resource: table}
    symptoms:
      - pattern: 'env check (?P<function>\\S+)'
    cause: x
    prevention: y
    diagnose:
      - title: Read the function
        call: lambda.get_function_configuration
        params: {FunctionName: '{function}'}
        show: [Timeout]
        capture: {current_vars: Environment.Variables}
      - title: Read the table
        call: dynamodb.describe_table
        params: {TableName: '{table}'}
      - title: Look at the dashboard
        manual: open the dashboard
    fix:
      - title: f
        manual: m
    """)


def _playbook():  # type: ignore[no-untyped-def]
    from warroom.aws.service_model import check_call

    playbook, problems = load_text(PLAYBOOK, "pb.yaml", check_call)
    assert problems == [] and playbook is not None
    return playbook


def _seed(endpoint: str) -> None:
    seed_function(endpoint, "env-fn")
    boto(endpoint, "lambda").update_function_configuration(FunctionName="env-fn",
                                                           Environment={"Variables": ENV})


async def test_the_guidance_diagnose_is_the_runner_s_and_says_what_it_needs(moto) -> None:
    _seed(moto.endpoint)
    async with session(moto.endpoint) as s:
        done, needs, manual = await run_diagnose(s, _playbook(), {"function": "env-fn"})
    assert (done.status, done.result, done.plan.call) == ("done", {"Timeout": 3},
                                                         "lambda.get_function_configuration")
    assert (needs.status, needs.needs) == ("needs", ("table",))
    assert (manual.status, manual.plan.manual) == ("skipped", "open the dashboard")


async def test_a_value_that_does_not_fit_is_needed_not_used(moto) -> None:
    async with session(moto.endpoint) as s:
        first, *_ = await run_diagnose(s, _playbook(), {"function": "not a name; rm -rf /"})
    assert (first.status, first.needs) == ("needs", ("function",))


async def test_without_a_session_every_step_says_so() -> None:
    results = await run_diagnose(None, _playbook(), {"function": "env-fn"})
    assert [(r.status, r.error.message if r.error else "") for r in results] == [
        ("skipped", "no AWS session")] * 3


async def test_what_a_step_captures_without_showing_it_is_masked(moto) -> None:
    _seed(moto.endpoint)
    user = ScriptedUser()
    async with session(moto.endpoint) as s:
        runner = Runner(_playbook(), user, s, values={"function": "env-fn", "table": "t-locks"},
                        ask=False)
        await runner.diagnose()
    [diagnosed] = [e for e in user.events if e.kind == "diagnosed"]
    assert diagnosed.data["shown"] == {"Timeout": 3}
    assert diagnosed.data["captured"] == {"current_vars": dict.fromkeys(ENV, MASK)}
    assert runner.values["current_vars"] == ENV  # the real values feed the fix steps


def test_api_ids_as_aws_and_the_offline_account_make_them() -> None:
    assert misfit("a1b2c3d4e5", "api_id") is None      # AWS: 10 of a-z 0-9
    assert misfit("abcdefgh", "api_id") is None        # moto's API Gateway v2: 8 of a-z
    for bad in ("a1b2c3d4e", "a1b2c3d4", "bos-dev-http-api", "A1B2C3D4E5"):
        assert misfit(bad, "api_id") is not None, bad


def test_an_api_gives_its_id_to_the_api_id_parameter_and_stays_the_resource() -> None:
    playbook = load_catalog([]).get("apigw-not-found")
    assert playbook is not None and playbook.param("api_id").type == "api_id"  # type: ignore[union-attr]
    api = Resource("api", "shop-api", attributes={"ApiId": "a1b2c3d4e5"})
    captures = resource_captures(playbook, api)
    assert captures["api_id"] == "a1b2c3d4e5"
    assert named_resource(playbook, captures, api) == ("shop-api", "api")
    # Discovery did not learn the id: nothing, rather than the name.
    assert "api_id" not in resource_captures(playbook, Resource("api", "shop-api"))


def test_check_records_take_context_rules_as_the_console_does() -> None:
    """A stack event naming a table: `warroom check` attributes it to the table, as a log line would be."""
    catalog = load_catalog([])
    line = "Found stale lock work-item-lock in table orders-locks (acquired 3h ago)"
    record = Record("cloudformation", "orders-stack", "events", 1, "e1", line,
                    matches=[Match("dynamodb-lock-stuck", "Lock stuck", 0, len(line))])
    [finding] = record_findings([record], catalog, "stack")
    assert (finding.resource, finding.resource_kind) == ("orders-locks", "table")
    assert finding.captures["table"] == "orders-locks" and finding.captures["lock_id"] == "work-item-lock"


async def test_the_guidance_pane_shows_the_runner_s_results(moto) -> None:
    from textual.app import App, ComposeResult

    from warroom.tui.guidance import GuidancePane, Shown

    _seed(moto.endpoint)
    playbook = _playbook()
    async with session(moto.endpoint) as s:
        results = await run_diagnose(s, playbook, {"function": "env-fn"})

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield GuidancePane()

    app = One()
    async with app.run_test() as pilot:
        pane = app.query_one(GuidancePane)
        pane.show(Shown(playbook, "env-fn", {"function": "env-fn"}, ""))
        pane.set_results(playbook.id, "env-fn", results)
        await pilot.pause()
        text = str(pane.body.render())
    assert "✓ Read the function\n     Timeout = 3\n" in text
    assert "? Read the table\n     needs table (the fix wizard asks)\n" in text
    assert "· Look at the dashboard\n     open the dashboard\n" in text
    assert "hunter2" not in text
