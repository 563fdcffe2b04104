"""Part of config loading: reads the parameters that `*_SSM_PARAMETER` settings name from AWS SSM Parameter
Store, decrypted, through boto3's standard credentials, region and endpoint configuration.

Only `config.py` imports this module, and only when such a setting is set; boto3 is imported on first use
(the `aws` extra). It reads no settings, and no message it makes holds a parameter's value.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from outagesync.errors import ConfigError

if TYPE_CHECKING:
    from botocore.client import BaseClient

MISSING_EXTRA = (
    "{variable} is set but the aws extra is not installed: pip install 'outagesync[aws]' "
    "(or unset {variable})"
)
NO_REGION = "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or a region in the AWS profile)"
NO_CREDENTIALS = (
    "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, "
    "or run with an instance or task role"
)
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 15.0


def fetch_parameters(wanted: Mapping[str, str], *, region: str | None = None) -> dict[str, str]:
    """The decrypted value of each parameter in `wanted` ({variable naming it: parameter name}), by variable,
    from `region` (None: boto3's own chain, AWS_DEFAULT_REGION then the profile's).

    ConfigError (exit 2) naming the variable, the parameter and the cause when boto3 is missing, when there
    is no region or no credentials, when a parameter does not exist or may not be read, or when SSM cannot
    be reached.
    """
    first = next(iter(wanted))
    # botocore's DEBUG records hold response bodies, so the values: never let them through (`-vv` included)
    for name in ("boto3", "botocore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, NoRegionError
    except ImportError:
        raise ConfigError(MISSING_EXTRA.format(variable=first)) from None
    try:
        client = boto3.session.Session().client(
            "ssm",
            region_name=region,
            config=Config(connect_timeout=CONNECT_TIMEOUT_S, read_timeout=READ_TIMEOUT_S),
        )
    except NoRegionError:
        raise ConfigError(_cannot_read(first, wanted[first], NO_REGION)) from None
    except BotoCoreError as exc:
        raise ConfigError(_cannot_read(first, wanted[first], str(exc))) from None
    return {variable: _fetch_one(client, variable, name) for variable, name in wanted.items()}


def _fetch_one(client: BaseClient, variable: str, name: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        answer: dict[str, Any] = client.get_parameter(Name=name, WithDecryption=True)
    except NoCredentialsError:
        raise ConfigError(_cannot_read(variable, name, NO_CREDENTIALS)) from None
    except ClientError as exc:
        raise ConfigError(_cannot_read(variable, name, _client_error(exc, client))) from None
    except BotoCoreError as exc:  # the endpoint cannot be reached, a timeout, a malformed answer, ...
        raise ConfigError(_cannot_read(variable, name, str(exc))) from None
    value = answer.get("Parameter", {}).get("Value")
    if not isinstance(value, str):
        raise ConfigError(_cannot_read(variable, name, "SSM answered without a value"))
    return value


def _client_error(exc: Any, client: BaseClient) -> str:
    """What AWS said, as a cause: its error code and message (AWS messages never hold a parameter's value)."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "error"))
    message = " ".join(str(error.get("Message", "")).split())
    # an XML error body (a proxy's, or an emulator's) that botocore left as it is: its code and message
    if xml_code := re.search(r"<Code>([^<]*)</Code>", message):
        xml_message = re.search(r"<Message>([^<]*)</Message>", message)
        code, message = xml_code.group(1), xml_message.group(1) if xml_message else ""
    if code == "ParameterNotFound":
        return f"the parameter does not exist (region {client.meta.region_name})"
    if code in ("AccessDeniedException", "AccessDenied"):
        return f"access denied ({code}): {message}" if message else f"access denied ({code})"
    return f"{code}: {message}" if message else code


def _cannot_read(variable: str, name: str, cause: str) -> str:
    return f"cannot read the SSM parameter {name!r} named by {variable}: {cause}"
