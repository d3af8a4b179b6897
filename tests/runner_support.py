"""Shared by the runner, audit, fix and report tests: seeding moto, and a scripted user."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from warroom.aws.session import AwsOptions, AwsSession
from warroom.playbook.catalog import load_catalog, load_layer
from warroom.playbook.model import Input, Playbook
from warroom.runner import Edit, Progress, StepError, StepPlan

FIXTURES = Path(__file__).parent / "fixtures" / "playbooks"


def playbook(pid: str) -> Playbook:
    """A built-in playbook, or one of the test fixtures."""
    from warroom.aws.service_model import check_call

    found = load_catalog([], check_call).get(pid) or load_layer([FIXTURES], check_call).get(pid)
    assert found is not None, pid
    return found


def boto(endpoint: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")


def session(endpoint: str, **options: Any) -> AwsSession:
    return AwsSession(AwsOptions(endpoint_url=endpoint, region="us-east-1", **options))


def seed_function(endpoint: str, name: str = "bos-dev-agent-persona", timeout: int = 3) -> None:
    role = boto(endpoint, "iam").create_role(
        RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    boto(endpoint, "lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="handler.handler",
        Code={"ZipFile": code.getvalue()}, Timeout=timeout)


def function_timeout(endpoint: str, name: str = "bos-dev-agent-persona") -> int:
    return boto(endpoint, "lambda").get_function_configuration(FunctionName=name)["Timeout"]


def seed_lock(endpoint: str, table: str = "test-locks", lock_id: str = "worker-7") -> None:
    ddb = boto(endpoint, "dynamodb")
    ddb.create_table(TableName=table, KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    ddb.put_item(TableName=table, Item={"LockID": {"S": lock_id}, "Owner": {"S": "host-1"}})


def lock_exists(endpoint: str, table: str = "test-locks", lock_id: str = "worker-7") -> bool:
    return "Item" in boto(endpoint, "dynamodb").get_item(TableName=table, Key={"LockID": {"S": lock_id}})


class ScriptedUser:
    """The test's user: answers from queues and writes down everything it was asked and shown.

    `inputs` maps an input name to a list of answers (given in turn); confirm answers,
    typed names, failure choices and manual answers are queues too. An empty queue means
    the user would not expect to be asked: the test fails.
    """

    def __init__(self, *, inputs: dict[str, list[Any]] | None = None, confirms: list[Any] | None = None,
                 typed: list[str] | None = None, failures: list[str] | None = None,
                 manual: list[bool] | None = None,
                 on_event: Callable[[Progress], None] | None = None) -> None:
        self.inputs = {k: list(v) for k, v in (inputs or {}).items()}
        self.confirms = list(confirms or [])
        self.typed = list(typed or [])
        self.failures = list(failures or [])
        self.manual = list(manual or [])
        self.on_event = on_event
        self.log: list[tuple[str, Any]] = []   # (question or "event:<kind>", detail)
        self.events: list[Progress] = []
        self.plans: list[StepPlan] = []
        self.errors: list[StepError] = []

    def asked(self, kind: str) -> list[Any]:
        return [detail for k, detail in self.log if k == kind]

    async def ask_input(self, spec: Input, default: Any, problem: str | None = None) -> Any:
        self.log.append(("ask_input", (spec.name, default, problem)))
        queue = self.inputs.get(spec.name)
        assert queue, f"unexpected question for {spec.name} (default {default!r}, problem {problem!r})"
        return queue.pop(0)

    async def confirm(self, plan: StepPlan) -> bool | Edit:
        self.log.append(("confirm", plan))
        self.plans.append(plan)
        assert self.confirms, f"unexpected confirm for {plan.title}"
        return self.confirms.pop(0)

    async def confirm_typed(self, plan: StepPlan, expected: str) -> bool:
        self.log.append(("confirm_typed", (plan, expected)))
        self.plans.append(plan)
        assert self.typed, f"unexpected typed confirm for {plan.title}"
        return self.typed.pop(0) == expected

    async def on_progress(self, event: Progress) -> None:
        self.log.append((f"event:{event.kind}", event))
        self.events.append(event)
        if self.on_event is not None:
            self.on_event(event)

    async def on_failure(self, plan: StepPlan, error: StepError) -> str:
        self.log.append(("on_failure", (plan, error)))
        self.errors.append(error)
        assert self.failures, f"unexpected failure of {plan.title}: {error.message}"
        return self.failures.pop(0)

    async def mark_manual_done(self, plan: StepPlan) -> bool:
        self.log.append(("mark_manual_done", plan))
        self.plans.append(plan)
        assert self.manual, f"unexpected manual step {plan.title}"
        return self.manual.pop(0)

    def transcript(self) -> str:
        """Everything the user saw, as text (for "this never appears" checks)."""
        return "\n".join(repr(detail) for _, detail in self.log)
