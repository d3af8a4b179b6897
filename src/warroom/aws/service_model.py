"""Checking playbook AWS calls against botocore's service models."""

from __future__ import annotations

import gzip
import json
import os
from functools import lru_cache
from typing import Any

from warroom.playbook.template import PLACEHOLDER


@lru_cache(maxsize=1)
def shared_loader() -> Any:
    """One botocore data loader for the process: each service model is parsed once.

    Every botocore session has a loader of its own, and a loaded model (a few MB of
    dicts; `endpoints` more) stays in it: the console's session, the health check's,
    each region's and this module's would otherwise each hold their own copy. Models
    are read into plain dicts, which keep their order too, at two thirds of the size
    (and parsing time) of the OrderedDicts botocore's own loader makes.
    """
    import botocore.session
    from botocore.loaders import JSONFileLoader, create_loader

    class PlainJSONFiles(JSONFileLoader):
        def load_file(self, file_path: str) -> Any:
            for ext, opener in ((".json", open), (".json.gz", gzip.open)):
                if os.path.isfile(file_path + ext):
                    with opener(file_path + ext, "rb") as f:
                        return json.loads(f.read().decode("utf-8"))
            return None

    # Where models are looked for, as a session's own loader would (AWS_DATA_PATH, data_path).
    loader = create_loader(botocore.session.Session().get_config_variable("data_path"))
    loader.file_loader = PlainJSONFiles()
    return loader


def share_models(session: Any) -> Any:
    """`session` (botocore or aiobotocore) reading its models through `shared_loader`."""
    session.register_component("data_loader", shared_loader())
    return session


@lru_cache(maxsize=1)
def _session() -> Any:
    import botocore.session

    return share_models(botocore.session.get_session())


@lru_cache(maxsize=None)
def _service(service: str) -> Any:
    import botocore.exceptions

    try:
        return _session().get_service_model(service)
    except botocore.exceptions.UnknownServiceError:
        return None


@lru_cache(maxsize=None)
def _operations(service: str) -> dict[str, str]:
    from botocore import xform_name

    model = _service(service)
    return {xform_name(op): op for op in model.operation_names} if model else {}


def operation_model(service: str, operation: str) -> Any:
    """botocore's OperationModel for `service.operation` (snake_case), or None."""
    name = _operations(service).get(operation)
    return _service(service).operation_model(name) if name else None


def check_call(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """Problems with a call as (parameter name or '', message); empty when it is valid."""
    if _service(service) is None:
        return [("", f"botocore knows no service '{service}'")]
    op = operation_model(service, operation)
    if op is None:
        return [("", f"botocore's '{service}' has no operation '{operation}'")]
    shape = op.input_shape
    members = shape.members if shape is not None else {}
    problems = [(name, f"'{name}' is not a parameter of {service}.{operation}")
                for name in params if name not in members]
    required = shape.required_members if shape is not None else []
    problems += [("", f"{service}.{operation} requires parameter '{name}'")
                 for name in required if name not in params]
    for name, value in params.items():
        member = members.get(name)
        if member is None or (isinstance(value, str) and PLACEHOLDER.search(value)):
            continue
        expected = {"string": str, "integer": int, "long": int, "boolean": bool,
                    "structure": dict, "list": list, "map": dict}.get(member.type_name)
        if expected is not None and not isinstance(value, expected):
            problems.append((name, f"must be {member.type_name} for {service}.{operation}"))
    return problems
