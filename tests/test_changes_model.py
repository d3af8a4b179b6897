"""The change domain: CloudTrail events to changes, merging sources, ranking suspects (no AWS)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from warroom.incident import changes as ch
from warroom.incident.changes import HIDDEN, Change

T0 = 1_700_000_000.0


def event(name: str, resource: str, params: dict[str, Any], at: float, *, kind: str = "AWS::Lambda::Function",
          who: dict[str, Any] | None = None) -> dict[str, Any]:
    identity = who or {"type": "IAMUser", "userName": "deployer", "arn": "arn:aws:iam::1:user/deployer"}
    return {"EventId": f"{name}-{at}", "EventName": name, "ReadOnly": "false",
            "EventTime": datetime.fromtimestamp(at, timezone.utc),
            "Resources": [{"ResourceType": kind, "ResourceName": resource}],
            "CloudTrailEvent": json.dumps({"userIdentity": identity, "requestParameters": params})}


def test_event_names_and_actors() -> None:
    assert ch.event_name("UpdateFunctionConfiguration20150331v2") == "UpdateFunctionConfiguration"
    assert ch.event_name("UpdateAlias20150331") == "UpdateAlias"
    assert ch.event_name("PutSecretValue") == "PutSecretValue"
    assert ch.actor({"type": "IAMUser", "userName": "alice"}) == "alice"
    assert ch.actor({"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/Deploy/gh-actions-42"}) \
        == "Deploy/gh-actions-42"
    assert ch.actor({"type": "AWSService", "invokedBy": "cloudformation.amazonaws.com"}) == "cloudformation"
    assert ch.actor({"type": "Root", "arn": "arn:aws:iam::1:root"}) == "root"


def test_before_and_after_come_from_the_previous_events() -> None:
    found = ch.from_cloudtrail([  # any order in; oldest first out
        event("UpdateFunctionConfiguration20150331v2", "fn", {"functionName": "fn", "timeout": 30,
                                                             "environment": {"variables": HIDDEN}}, T0 + 60),
        event("CreateFunction20150331", "fn", {"functionName": "fn", "timeout": 60, "runtime": "python3.12",
                                              "code": {"zipFile": HIDDEN}}, T0),
        event("UpdateFunctionConfiguration20150331v2", "fn", {"functionName": "fn", "memorySize": 512}, T0 + 90),
    ])
    assert [c.event for c in found] == ["CreateFunction", "UpdateFunctionConfiguration",
                                        "UpdateFunctionConfiguration"]
    create, lowered, memory = found
    assert create.summary == "created" and create.before is None and "Code" not in (create.after or {})
    assert (lowered.before, lowered.after) == ({"Timeout": 60}, {"Timeout": 30})
    assert lowered.summary == "Timeout 60 -> 30; Environment changed (value hidden)"
    assert lowered.actor == "deployer" and lowered.resource_type == "function"
    assert (memory.before, memory.after) == ({"MemorySize": 128}, {"MemorySize": 512})  # Lambda's default
    assert HIDDEN not in json.dumps([c.to_json() for c in found])


def test_policy_statements_and_alias_versions() -> None:
    def policy(*actions: str) -> str:
        return json.dumps({"Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]})
    found = ch.from_cloudtrail([
        event("PutRolePolicy", "r", {"roleName": "r", "policyName": "data",
                                     "policyDocument": policy("a:Get", "a:Put")}, T0, kind="AWS::IAM::Role"),
        event("PutRolePolicy", "r", {"roleName": "r", "policyName": "other", "policyDocument": policy("b:X")},
              T0 + 1, kind="AWS::IAM::Role"),
        event("PutRolePolicy", "r", {"roleName": "r", "policyName": "data",
                                     "policyDocument": policy("a:Get", "a:List")}, T0 + 2, kind="AWS::IAM::Role"),
        event("CreateAlias20150331", "fn", {"functionName": "fn", "name": "live", "functionVersion": "3"}, T0 + 3),
        event("UpdateAlias20150331", "fn", {"functionName": "fn", "name": "live", "functionVersion": "4"}, T0 + 4),
    ])
    assert found[2].summary == "removed a:Put; added a:List"
    assert found[2].before == {"Allowed": ["a:Get", "a:Put"], "PolicyName": "data"}
    assert found[1].before is None  # another policy of the same role
    assert (found[4].before, found[4].after) == ({"FunctionVersion": "3", "Name": "live"},
                                                 {"Name": "live", "FunctionVersion": "4"})


def test_service_records_join_the_cloudtrail_event() -> None:
    trail = ch.from_cloudtrail([
        event("CreateSecret", "tok", {"name": "tok", "secretString": HIDDEN}, T0,
              kind="AWS::SecretsManager::Secret"),
        event("PutSecretValue", "tok", {"secretId": "tok", "secretString": HIDDEN}, T0 + 30,
              kind="AWS::SecretsManager::Secret", who={"type": "AssumedRole",
                                                       "arn": "arn:aws:sts::1:assumed-role/Rotate/job"})])
    versions = ch.from_secret_versions("tok", [
        {"VersionId": "v-new", "VersionStages": ["AWSCURRENT"], "CreatedDate": T0 + 31},
        {"VersionId": "v-old", "VersionStages": ["AWSPREVIOUS"], "CreatedDate": T0 + 1}])
    merged = ch.merge([*versions, *trail])
    assert [(c.event, c.source, c.actor) for c in merged] == [
        ("CreateSecret", "cloudtrail", "deployer"), ("PutSecretValue", "cloudtrail", "Rotate/job")]
    assert merged[1].before == {"AWSCURRENT": "v-old"} and merged[1].after == {"AWSCURRENT": "v-new"}
    # Far apart in time, they stay two changes.
    late = ch.from_secret_versions("tok", [{"VersionId": "v9", "VersionStages": [], "CreatedDate": T0 + 999}])
    assert len(ch.merge([*late, *trail])) == 3


def test_parameter_history_never_carries_a_secure_value() -> None:
    found = ch.from_parameter_history([
        {"Name": "/db", "Type": "SecureString", "Value": "AQICAHh-ciphertext", "Version": 1,
         "LastModifiedDate": T0, "LastModifiedUser": "arn:aws:iam::1:user/alice"},
        {"Name": "/db", "Type": "SecureString", "Value": "AQICAHh-other", "Version": 2, "LastModifiedDate": T0 + 5}])
    assert "AQICAHh" not in json.dumps([c.to_json() for c in found])
    assert found[0].actor == "alice" and found[1].before == {"Version": 1, "Type": "SecureString"}
    plain = ch.from_parameter_history([
        {"Name": "/cfg", "Type": "String", "Value": "a", "Version": 1, "LastModifiedDate": T0},
        {"Name": "/cfg", "Type": "String", "Value": "b", "Version": 2, "LastModifiedDate": T0 + 5}])
    assert plain[1].before == {"Version": 1, "Type": "String", "Value": "a"} and plain[1].summary == "version 2: a -> b"


def test_suspects_ranked_by_relation_then_closeness() -> None:
    first = T0 + 3600
    timeline = [
        Change(T0 + 3590, "cloudtrail", "PutRolePolicy", "role-a", "role", "deployer", "removed x:Y"),
        Change(T0 + 3000, "cloudtrail", "UpdateFunctionConfiguration", "fn", "function", "deployer",
               "Timeout 60 -> 30", {"Timeout": 60}, {"Timeout": 30}),
        Change(T0 + 3500, "cloudtrail", "UpdateFunctionConfiguration", "fn", "function", "ci", "MemorySize 256 -> 512"),
        Change(T0 + 3599, "cloudtrail", "PutSecretValue", "other-secret", "secret"),   # unrelated
        Change(first + 10, "cloudtrail", "UpdateFunctionConfiguration", "fn", "function"),  # after the symptom
        Change(first - ch.WINDOW_S - 1, "cloudtrail", "UpdateFunctionConfiguration", "fn", "function"),  # too early
        Change(T0 + 3100, "codebuild", "build SUCCEEDED", "fn/build", "project"),
    ]
    found = ch.suspects("fn", first, timeline, {"role-a": "its role"})
    assert [(s.change.summary or s.change.event, s.relation) for s in found] == [
        ("MemorySize 256 -> 512", "same resource"), ("build SUCCEEDED", "same resource"),
        ("Timeout 60 -> 30", "same resource"), ("removed x:Y", "its role")]
    clock = datetime.fromtimestamp(T0 + 3000, timezone.utc).strftime("%H:%M")
    assert found[2].describe() == (f"{clock} UpdateFunctionConfiguration by deployer: Timeout 60 -> 30, "
                                   "10 min before the first symptom")
    assert found[3].describe().split(" ", 1)[1].startswith("PutRolePolicy on its role role-a by deployer")


def test_function_dependencies_keep_only_names_of_known_resources() -> None:
    config = {"Role": "arn:aws:iam::1:role/app-role", "Layers": [{"Arn": "arn:aws:lambda:us-east-1:1:layer:utils:3"}],
              "Environment": {"Variables": {"TOKEN": "arn:aws:secretsmanager:us-east-1:1:secret:gh-AbCdEf",
                                            "TABLE": "orders", "PASSWORD": "hunter2"}}}
    known = {"arn:aws:secretsmanager:us-east-1:1:secret:gh-AbCdEf": ("secret", "gh"), "orders": ("table", "orders")}
    assert ch.function_dependencies(config, known) == {
        "app-role": "its role", "utils": "its layer", "gh": "its secret", "orders": "its table"}


def test_a_change_with_no_resource_name_prints_no_empty_name() -> None:
    """CloudTrail leaves Resources empty for some calls (CreateKey): the line has no empty name."""
    import io

    from warroom.aws.changes import Timeline
    from warroom.commands.changes import print_text

    out = io.StringIO()
    print_text([Timeline([Change(time=1_700_000_000.0, source="cloudtrail", event="CreateKey", resource="",
                                 actor="root", summary="created")])], out)
    assert out.getvalue().endswith(" cloudtrail     CreateKey by root: created\n")
