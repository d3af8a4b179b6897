"""Before a fix: which calls the identity may not make; during it: no change on expired credentials.

Against moto's server: it has no IAM policy simulator, so a mutating call's verdict is
"unknown" (it is never tried to find out), and a read is tried once as it is; the fault
injector answers AccessDenied for chosen actions and ExpiredTokenException while told to.
"""

from __future__ import annotations

from warroom.aws.permissions import check_calls, iam_action
from warroom.runner import Runner
from warroom.runner.events import Progress

from tests.runner_support import ScriptedUser, function_timeout, playbook, seed_function, session

FN = "orders-api"
UPDATE = ("lambda.update_function_configuration", {"FunctionName": FN, "Timeout": 99})
READ = ("lambda.get_function_configuration", {"FunctionName": FN})


def test_iam_actions_come_from_botocore_models() -> None:
    assert iam_action("lambda.update_function_configuration") == "lambda:UpdateFunctionConfiguration"
    assert iam_action("cloudwatch.put_metric_alarm") == "cloudwatch:PutMetricAlarm"
    assert iam_action("resourcegroupstaggingapi.get_resources") == "tag:GetResources"
    assert iam_action("apigatewayv2.get_routes") == "apigateway:GET"
    assert iam_action("lambda.no_such_operation") == ""


async def test_without_a_simulator_reads_are_tried_and_changes_stay_unknown(moto) -> None:
    seed_function(moto.endpoint, FN, timeout=3)
    async with session(moto.endpoint) as s:
        verdicts = {p.action.name: (p.verdict, p.how) for p in await check_calls(s, [UPDATE, READ])}
    assert verdicts == {"lambda:UpdateFunctionConfiguration": ("unknown", "not probed"),
                        "lambda:GetFunctionConfiguration": ("allowed", "probed")}
    assert function_timeout(moto.endpoint, FN) == 3


async def test_a_denied_read_is_named_and_a_change_is_never_tried(moto) -> None:
    seed_function(moto.endpoint, FN, timeout=3)
    # Both denied at the server: had the change been tried, it would read "denied" too.
    moto.faults(deny=["lambda:GetFunctionConfiguration", "lambda:UpdateFunctionConfiguration"])
    async with session(moto.endpoint) as s:
        verdicts = {p.action.name: p.verdict for p in await check_calls(s, [UPDATE, READ])}
        assert verdicts == {"lambda:UpdateFunctionConfiguration": "unknown",
                            "lambda:GetFunctionConfiguration": "denied"}
        user = ScriptedUser()
        runner = Runner(playbook("lambda-timeout"), user, s, values={"function": FN})
        await runner.start()
        assert await runner.check_permissions() == ["lambda:GetFunctionConfiguration"]
    notes = [e.message for e in user.events if e.kind == "note"]
    assert notes == ["this identity may not call lambda:GetFunctionConfiguration (a read tried once): "
                     "the steps that need it will fail"]
    moto.faults()
    assert function_timeout(moto.endpoint, FN) == 3


async def test_a_change_waits_while_the_credentials_are_known_expired(moto) -> None:
    seed_function(moto.endpoint, FN, timeout=3)
    seen: list[str] = []

    def renew_when_paused(event: Progress) -> None:
        seen.append(event.kind)
        if event.kind == "note" and event.message.startswith("paused before fix 1"):
            moto.faults()  # the engineer ran `aws sso login` meanwhile

    user = ScriptedUser(inputs={"new_timeout": ["120"]}, confirms=[True], manual=[False, False],
                        on_event=renew_when_paused)
    async with session(moto.endpoint) as s:
        moto.faults(expired=True)
        runner = Runner(playbook("lambda-timeout"), user, s, values={"function": FN},
                        explicit={"function"}, poll_interval=0.05)
        result = await runner.run()
        assert not s.credentials.known_expired
    notes = [e.message for e in user.events if e.kind == "note"]
    paused = next(n for n in notes if n.startswith("paused before fix 1"))
    assert "ExpiredTokenException" in paused and "the step is sent once they work again" in paused
    assert seen.index("note") < seen.index("executing")
    assert result.fix[0].status == "done" and function_timeout(moto.endpoint, FN) == 120


async def test_a_run_names_the_denied_call_before_the_first_confirm(moto) -> None:
    seed_function(moto.endpoint, FN, timeout=3)
    moto.faults(deny=["lambda:GetFunctionConfiguration"])
    user = ScriptedUser(inputs={"new_timeout": ["120"]}, confirms=[False], manual=[False, False])
    async with session(moto.endpoint) as s:
        await Runner(playbook("lambda-timeout"), user, s, values={"function": FN}).run()
    kinds = [k if k != "event:note" else d.message.split(" (")[0] for k, d in user.log
             if k in ("confirm", "event:note")]
    assert kinds[:2] == ["this identity may not call lambda:GetFunctionConfiguration", "confirm"]
