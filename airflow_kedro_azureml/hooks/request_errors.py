"""Sort the Azure SDK's errors into this package's own: transient (try again) or final.

Only the hook calls the SDK, and it raises only these, so the operator, sensor
and trigger decide what to do from one small family instead of azure-core's:

- ``TransientAzureMLError``: 429, a 5xx, a connection that failed or dropped, an
  answer cut short. ``answer_lost`` says the request may have taken effect.
- ``AzureMLRequestError``: any other refusal (400, 401, 403, 404, 409...), and the
  SDK's own validation before anything is sent. Repeating it will not help.

Anything else (a bug, an unexpected exception) is left as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from airflow_kedro_azureml.errors import (
    AzureMLRequestError,
    KedroAzureMLError,
    TransientAzureMLError,
)

TRANSIENT_HTTP_STATUSES = frozenset({408, 429})


def classify(error: BaseException, action: str) -> KedroAzureMLError | None:
    """The package's error for an SDK ``error`` raised while doing ``action``, else None."""
    from azure.ai.ml.exceptions import MlException
    from azure.core.exceptions import (
        HttpResponseError,
        IncompleteReadError,
        ServiceRequestError,
        ServiceResponseError,
    )

    text = f"{action}: {type(error).__name__}: {_one_line(error)}"
    if isinstance(error, ServiceRequestError):
        return TransientAzureMLError(text)
    if isinstance(error, ServiceResponseError | IncompleteReadError):
        return TransientAzureMLError(text, answer_lost=True)
    if isinstance(error, HttpResponseError):
        code = error.status_code
        if code is not None and (code in TRANSIENT_HTTP_STATUSES or code >= 500):
            return TransientAzureMLError(text, status_code=code, answer_lost=code >= 500)
        return AzureMLRequestError(text, status_code=code)
    if isinstance(error, MlException):
        # The SDK wraps some network errors (e.g. of the code upload) in its own.
        cause = error.__cause__ or error.__context__
        if cause is not None and cause is not error:
            inner = classify(cause, action)
            if isinstance(inner, TransientAzureMLError):
                return TransientAzureMLError(text, inner.status_code, inner.answer_lost)
        return AzureMLRequestError(text)
    return None


@contextmanager
def translated_errors(action: str) -> Iterator[None]:
    """Raise the package's error in place of an SDK error raised inside the block."""
    try:
        yield
    except KedroAzureMLError:
        raise
    except Exception as error:
        translated = classify(error, action)
        if translated is None:
            raise
        raise translated from error


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or "(no message)"
