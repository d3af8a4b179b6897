"""How the offline account reads a request: one resolver for the fault injector and CloudTrail."""

from __future__ import annotations

import io
import json

import pytest

from warroom.demo import cloudtrail
from warroom.demo.operations import access_key, operation_of, rest_route


def environ(service: str, method: str = "GET", path: str = "/", *, query: str = "",
            body: bytes = b"", content_type: str = "", target: str = "") -> dict[str, object]:
    auth = (f"AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261206/us-east-1/{service}/aws4_request, "
            "SignedHeaders=host, Signature=0")
    env: dict[str, object] = {"HTTP_AUTHORIZATION": auth, "REQUEST_METHOD": method, "PATH_INFO": path,
                              "QUERY_STRING": query, "CONTENT_LENGTH": str(len(body)),
                              "wsgi.input": io.BytesIO(body)}
    if content_type:
        env["CONTENT_TYPE"] = content_type
    if target:
        env["HTTP_X_AMZ_TARGET"] = target
    return env


@pytest.mark.parametrize(("request_env", "expected"), [
    (environ("logs", "POST", target="Logs_20140328.FilterLogEvents"), ("logs", "FilterLogEvents")),
    (environ("monitoring", "POST", body=b"Action=DescribeAlarms&Version=2010-08-01",
             content_type="application/x-www-form-urlencoded"), ("cloudwatch", "DescribeAlarms")),
    (environ("monitoring", "POST", "/service/GraniteServiceVersion20100801/operation/GetMetricData"),
     ("cloudwatch", "GetMetricData")),
    (environ("lambda", "GET", "/2015-03-31/functions/fn-a/configuration"),
     ("lambda", "GetFunctionConfiguration")),
    (environ("lambda", "PUT", "/2015-03-31/functions/fn-a/configuration"),
     ("lambda", "UpdateFunctionConfiguration")),
    (environ("apigateway", "GET", "/v2/apis/abc123/stages"), ("apigateway", "GetStages")),
    (environ("apigateway", "GET", "/restapis/abc123/stages"), ("apigateway", "GetStages")),
    (environ("tagging", "POST", target="ResourceGroupsTaggingAPI_20170126.GetResources"),
     ("tag", "GetResources")),
])
def test_operation_of_every_wire_protocol(request_env: dict[str, object], expected: tuple[str, str]) -> None:
    assert operation_of(request_env) == expected


def test_the_body_stays_readable_for_moto() -> None:
    env = environ("monitoring", "POST", body=b"Action=PutMetricAlarm&AlarmName=a",
                  content_type="application/x-www-form-urlencoded")
    assert operation_of(env) == ("cloudwatch", "PutMetricAlarm")
    stream = env["wsgi.input"]
    assert isinstance(stream, io.BytesIO) and stream.read() == b"Action=PutMetricAlarm&AlarmName=a"


def test_rest_route_names_the_model_and_captures_the_labels() -> None:
    found = rest_route(environ("apigateway", "PATCH", "/v2/apis/abc123/stages/%24default"))
    assert found is not None
    route, match = found
    assert (route.service, route.operation) == ("apigatewayv2", "UpdateStage")
    assert dict(zip(route.labels, match.groups(), strict=True)) == {"apiId": "abc123", "stageName": "$default"}


def test_cloudtrail_reads_a_rest_mutation_with_its_path_and_body_parameters() -> None:
    payload = json.dumps({"Timeout": 60}).encode()
    env = environ("lambda", "PUT", "/2015-03-31/functions/fn-a/configuration", body=payload,
                  content_type="application/json")
    assert cloudtrail.identify(env) == ("lambda", "UpdateFunctionConfiguration",
                                        {"Timeout": 60, "FunctionName": "fn-a"})
    assert cloudtrail.identify(environ("lambda", "GET", "/2015-03-31/functions/fn-a/configuration")) is None
    assert access_key(env) == "AKIAEXAMPLE"
