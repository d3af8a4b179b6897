"""A selected resource fills only the playbook parameter declared for its kind."""

from warroom.playbook.catalog import load_catalog
from warroom.tui.diagnose import params_for


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
