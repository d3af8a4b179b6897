"""A selected resource fills only the playbook parameter declared for its kind."""

from warroom.playbook.catalog import load_catalog
from warroom.runner.diagnose import params_for


def test_resource_fills_the_parameter_of_its_kind() -> None:
    playbook = load_catalog().get("dynamodb-throttling")
    kinds = {p.resource: p.name for p in playbook.params if p.resource}
    assert "table" in kinds
    assert playbook.resource_param("table").name == kinds["table"]
    # A Lambda function's log line must not put the function's name into the table parameter.
    if "function" in kinds:
        assert params_for(playbook, {}, "bos-dev-api-handler", "function") == {kinds["function"]: "bos-dev-api-handler"}
    else:
        assert params_for(playbook, {}, "bos-dev-api-handler", "function") == {}
    assert params_for(playbook, {}, "kiro-worker-test-locks", "table")[kinds["table"]] == "kiro-worker-test-locks"


def test_unknown_kind_falls_back_to_the_first_resource_parameter() -> None:
    playbook = load_catalog().get("lambda-timeout")
    assert playbook.resource_param("").name == "function"
    assert playbook.resource_param("bucket") is None


def test_an_api_fills_the_function_of_the_route_its_access_log_line_names() -> None:
    from warroom.incident.attribution import resource_captures
    from warroom.incident.records import Resource
    from warroom.playbook.catalog import load_catalog

    oom = load_catalog([]).get("lambda-out-of-memory")
    api = Resource("api", "shop-api", attributes={"ApiId": "a1b2c3d4e5", "Routes": {
        "GET /orders": "orders-fn", "GET /orders/{id}": "order-fn", "POST /pay": "pay-fn"}})
    line = '{"routeKey":"GET /orders/{id}","status":"502"}'
    assert resource_captures(oom, api, line)["function"] == "order-fn"  # the longest quoted key
    assert "function" not in resource_captures(oom, api, '{"routeKey":"GET /nowhere"}')
    single = Resource("api", "one", attributes={"Routes": {"GET /a": "fn", "GET /b": "fn"}})
    assert resource_captures(oom, single)["function"] == "fn"


def test_a_function_fills_its_execution_role() -> None:
    from warroom.incident.attribution import resource_captures
    from warroom.incident.records import Resource
    from warroom.playbook.catalog import load_catalog

    xray = load_catalog([]).get("xray-tracing-missing")
    fn = Resource("function", "orders-fn", attributes={"Role": "arn:aws:iam::123456789012:role/svc/orders-role"})
    assert resource_captures(xray, fn) == {"function": "orders-fn", "role": "orders-role"}


def test_a_topic_and_a_key_fill_their_arn() -> None:
    # SNS takes only a topic's ARN, and KMS's GetKeyPolicy no alias: the name the console
    # shows for them would fail every diagnose and fix step.
    from warroom.incident.attribution import resource_captures
    from warroom.incident.records import Resource

    catalog = load_catalog([])
    arn = "arn:aws:sns:us-east-1:123456789012:app-alerts"
    topic = Resource("topic", "app-alerts", arn)
    assert resource_captures(catalog.get("sns-email-not-confirmed"), topic) == {"topic": arn}
    key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    key = Resource("key", "app-key", key_arn)
    assert resource_captures(catalog.get("kms-key-unavailable"), key)["key"] == key_arn
    # Discovery that did not learn the ARN leaves the value to be asked for.
    assert resource_captures(catalog.get("sns-email-not-confirmed"), Resource("topic", "app-alerts")) == {}
    assert params_for(catalog.get("lambda-timeout"), {}, "orders-fn", "function") == {"function": "orders-fn"}
