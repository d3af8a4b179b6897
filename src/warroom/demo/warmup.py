"""Build the demo world's services in moto's server before it answers.

moto builds a service's app at its first request, under one lock that every other request
waits on: SSM's alone takes most of a second, API Gateway's a fifth. Seeding the world
would meet them one after the other while the whole server waits. Built before the server
answers, that time overlaps with the console's own start instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# What the demo's seeding, simulator and health check call.
SERVICES = ("ssm", "apigateway", "cloudformation", "lambda", "kms", "iam", "apigatewayv2", "logs",
            "dynamodb", "secretsmanager", "sns", "codebuild", "s3", "cloudwatch", "sts", "events",
            "cloudtrail", "resourcegroupstaggingapi")


def warm(dispatcher: Any, create_app: Callable[[str], Any], services: tuple[str, ...] = SERVICES) -> None:
    """Build each service's app into moto's dispatcher; one that fails is built at its
    first request instead, as without this."""
    for name in services:
        try:
            app = create_app(name)
        except Exception:  # noqa: BLE001, S112 - a head start, not a requirement
            continue
        with dispatcher.lock:
            dispatcher.app_instances.setdefault(name, app)
