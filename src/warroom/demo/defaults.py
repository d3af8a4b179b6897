"""The demo world's names as parameter defaults, for the demo's own console only.

Built-in playbooks carry no account's names: a value comes from the finding, the selected
resource or the user. In the demo the world is known, so `:fix lambda-timeout` there may
offer the world's function, as a default the user still confirms, and a state probe about
one configured thing (`secret-missing`, `codebuild-project-missing`) checks the world's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from warroom.demo import world as w
from warroom.playbook.catalog import Catalog

_TF_DIR = "terraform/environments/dev"
_KIRO_STACK = w.CORE_STACK

# playbook id -> parameter -> the demo world's value.
DEFAULTS: Mapping[str, Mapping[str, str]] = {
    "alarm-not-triggering": {"alarm": w.BUILD_FAILURES_ALARM},
    "apigw-high-latency": {"api_name": w.HTTP_API, "function": w.API_HANDLER},
    "apigw-internal-error": {"function": w.AGENT_PERSONA},
    "apigw-not-found": {"api_name": w.HTTP_API},
    "aws-throttling": {"function": w.AGENT_PERSONA},
    "cdk-bootstrap-required": {"region": w.REGION},
    "cdk-typescript-compile": {"project_dir": "infrastructure"},
    "cdk-version-mismatch": {"project_dir": "infrastructure"},
    "cfn-deployment-timeout": {"stack": _KIRO_STACK},
    "cfn-stack-rollback": {"stack": _KIRO_STACK},
    "cloudwatch-logs-missing": {"function": w.NOTIFIER, "log_group": f"/aws/lambda/{w.NOTIFIER}",
                                "role": w.BOS_ROLE},
    "cloudwatch-metrics-missing": {"function": w.AGENT_PERSONA},
    "codebuild-build-timeout": {"project": w.KIRO_PROJECT},
    "codebuild-buildspec-missing": {"project": w.KIRO_PROJECT},
    "codebuild-git-auth-failed": {"project": w.KIRO_PROJECT, "secret": w.GIT_CREDENTIALS},
    "codebuild-project-not-found": {"project": w.KIRO_PROJECT, "stack": _KIRO_STACK},
    "codebuild-start-denied": {"project": w.KIRO_PROJECT, "function": w.POLLER},
    "dynamodb-lock-held": {"table": w.LOCKS_TABLE, "lock_key": w.LOCK_KEY},
    "dynamodb-lock-stuck": {"table": w.LOCKS_TABLE, "lock_id": w.LOCK_KEY},
    "dynamodb-table-already-exists": {"table": w.LOCKS_TABLE, "stack": _KIRO_STACK},
    "dynamodb-throttling": {"table": w.LOCKS_TABLE},
    "git-credentials-invalid-json": {"secret": w.GIT_CREDENTIALS},
    "github-project-not-found": {"parameter": w.PROJECT_CONFIG},
    "github-rate-limit": {"secret": w.GITHUB_TOKEN},
    "github-token-invalid": {"secret": w.GITHUB_TOKEN},
    "github-work-items-not-found": {"parameter": w.PROJECT_CONFIG},
    "iam-access-denied": {"user_name": w.DEPLOYER_USER, "role": w.BOS_ROLE, "policy_version": "v1",
                          "policy_arn": f"arn:aws:iam::{w.ACCOUNT}:policy/warroom-demo-basic-execution"},
    "iam-passrole-denied": {"user_name": w.DEPLOYER_USER, "passed_role": w.KIRO_CODEBUILD_ROLE},
    "kms-decrypt-denied": {"role": w.BOS_ROLE},
    "kms-key-unavailable": {"role": w.BOS_ROLE},
    "lambda-code-size-exceeded": {"function": w.POLLER, "project_dir": "infrastructure"},
    "lambda-cold-start": {"function": w.API_HANDLER},
    "lambda-env-var-missing": {"function": w.POLLER, "variable": "LOCKS_TABLE_NAME"},
    "lambda-function-not-found": {"function": w.AGENT_PERSONA, "stack": _KIRO_STACK},
    "lambda-out-of-memory": {"function": w.API_HANDLER},
    "lambda-timeout": {"function": w.AGENT_PERSONA},
    "python-import-error": {"function": w.EVENT_PROCESSOR, "tf_dir": _TF_DIR},
    "python-module-not-found": {"function": w.WEBSOCKET_HANDLER, "layer": w.BOS_LAYER,
                                "layer_dir": "src/layers/common_utils", "tf_dir": _TF_DIR},
    "python-syntax-error": {"function": w.AGENT_PERSONA, "source_file": "src/agents/agent_persona/main.py",
                            "source_dir": "src/agents/agent_persona/"},
    "python-type-error": {"function": w.AGENT_PERSONA},
    "s3-bucket-already-exists": {"bucket": w.ARTIFACTS_BUCKET, "stack": _KIRO_STACK},
    "secret-not-found": {"secret": w.GITHUB_TOKEN, "secret_prefix": "kiro-worker", "stack": _KIRO_STACK},
    "secret-value-empty": {"secret": w.GITHUB_TOKEN},
    "sns-email-not-confirmed": {"topic": f"arn:aws:sns:{w.REGION}:{w.ACCOUNT}:{w.KIRO_TOPIC}"},
    "terraform-backend-changed": {"tf_dir": _TF_DIR},
    "terraform-invalid-variable": {"tf_dir": _TF_DIR},
    "terraform-missing-argument": {"tf_dir": _TF_DIR},
    "terraform-missing-provider": {"tf_dir": _TF_DIR},
    "terraform-state-lock": {"lock_table": w.TF_LOCK_TABLE, "tf_dir": _TF_DIR},
    "terraform-unsupported-argument": {"tf_dir": _TF_DIR},
    "websocket-connection-failed": {"function": w.WEBSOCKET_HANDLER, "stage": "dev"},
    "xray-tracing-missing": {"function": w.WEBSOCKET_HANDLER, "role": w.BOS_ROLE},
}


def with_demo_defaults(catalog: Catalog) -> Catalog:
    """The catalog with the demo world's names as defaults of the parameters named above."""
    playbooks = dict(catalog.playbooks)
    for pid, names in DEFAULTS.items():
        playbook = playbooks.get(pid)
        if playbook is None:
            continue
        params = tuple(dataclasses.replace(p, default=names[p.name])
                       if p.name in names and p.default is None else p for p in playbook.params)
        playbooks[pid] = dataclasses.replace(playbook, params=params)
    return Catalog(playbooks, list(catalog.problems))
