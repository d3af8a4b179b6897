"""AWS operations whose answer is secret material, which steps that run unasked may not call.

Diagnose and verify steps run without a confirmation and show what they read; a value
masked by its field name is still captured into later steps, and masking by shape misses
a password that looks like any word. So they may not read secrets at all: the probes
(secret-empty, secret-invalid-json) answer "is it empty / is it JSON" without showing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_CREDENTIALS = "returns temporary AWS credentials"

# (service, operation) -> what it returns that is secret.
SECRET_OPERATIONS: dict[tuple[str, str], str] = {
    ("secretsmanager", "get_secret_value"): "returns the secret's value; describe_secret, "
    "list_secret_version_ids or the secret-empty / secret-invalid-json probes do not",
    ("secretsmanager", "batch_get_secret_value"): "returns the secrets' values",
    ("kms", "decrypt"): "returns the plaintext",
    ("ecr", "get_authorization_token"): "returns a registry password",
    ("ecr-public", "get_authorization_token"): "returns a registry password",
    ("codeartifact", "get_authorization_token"): "returns a repository token",
    ("redshift", "get_cluster_credentials"): "returns a database password",
    ("sts", "get_session_token"): _CREDENTIALS,
    ("sts", "get_federation_token"): _CREDENTIALS,
    ("sts", "assume_role"): _CREDENTIALS,
    ("sts", "assume_role_with_saml"): _CREDENTIALS,
    ("sts", "assume_role_with_web_identity"): _CREDENTIALS,
    ("sso", "get_role_credentials"): _CREDENTIALS,
    ("cognito-identity", "get_credentials_for_identity"): _CREDENTIALS,
    ("iam", "create_access_key"): "returns a secret access key",
    ("iam", "create_service_specific_credential"): "returns a password",
    ("iam", "reset_service_specific_credential"): "returns a password",
    # The answer holds a presigned URL: anyone with it downloads the code for 10 minutes.
    ("lambda", "get_function"): "returns a URL that downloads the code; "
    "get_function_configuration does not",
    ("lambda", "get_layer_version"): "returns a URL that downloads the layer",
}

# Operations that return secret material only when a parameter asks for it. Anything but
# the parameter absent or literally false is refused: a `{placeholder}` may become true.
SECRET_WHEN: dict[tuple[str, str], str] = {
    ("ssm", "get_parameter"): "WithDecryption",
    ("ssm", "get_parameters"): "WithDecryption",
    ("ssm", "get_parameters_by_path"): "WithDecryption",
    ("ssm", "get_parameter_history"): "WithDecryption",
    ("apigateway", "get_api_key"): "includeValue",
    ("apigateway", "get_api_keys"): "includeValues",
}


def secret_material(service: str, operation: str, params: Mapping[str, Any]) -> str | None:
    """Why the call would return secret material, or None."""
    why = SECRET_OPERATIONS.get((service, operation))
    if why is not None:
        return f"{service}.{operation} {why}"
    flag = SECRET_WHEN.get((service, operation))
    if flag is not None and params.get(flag, False) is not False:
        return f"{service}.{operation} with {flag} returns secret values; leave {flag} out"
    return None
