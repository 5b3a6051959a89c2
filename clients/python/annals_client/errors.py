"""annalsd's errors as one exception, AnnalsError, with the details annalsd
sends: a google.rpc.Status in the `grpc-status-details-bin` trailer (or in
an AppendSession acknowledgement) whose details are a google.rpc.BadRequest
(INVALID_ARGUMENT), an ErrorInfo (FAILED_PRECONDITION, ALREADY_EXISTS) or a
RetryInfo (a momentary RESOURCE_EXHAUSTED). See README.md, "Errors"."""

from typing import Dict, Iterable, Optional, Tuple

import grpc

from annals_client._gen.google.rpc import error_details_pb2, status_pb2

_DETAILS_KEY = "grpc-status-details-bin"
_CODES = {code.value[0]: code for code in grpc.StatusCode}


class AnnalsError(Exception):
    """A call that annalsd, or the connection to it, ended with an error.

    Attributes:
      code: the grpc.StatusCode (grpc.StatusCode.INVALID_ARGUMENT, ...).
      message: the status message, as annalsd wrote it.
      field_violations: [(field, description), ...] from a BadRequest, each
        field named by its path in the request ("events[0].target[0]");
        empty without one.
      reason: the ErrorInfo reason ("WRONG_EXPECTED_VERSION",
        "DUPLICATE_EVENT_ID"), or None without an ErrorInfo.
      metadata: the ErrorInfo metadata ({"stream": ..., "expected": ...,
        "current_version": ...}); empty without one.
      retry_delay: seconds to wait before trying again, from a RetryInfo;
        None without one.

    str() is one line, "CODE: message", like the annals CLI prints.
    """

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        field_violations: Iterable[Tuple[str, str]] = (),
        reason: Optional[str] = None,
        metadata: Optional[Dict[str, str]] = None,
        retry_delay: Optional[float] = None,
    ):
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message
        self.field_violations = list(field_violations)
        self.reason = reason
        self.metadata = dict(metadata or {})
        self.retry_delay = retry_delay


def from_status(status: status_pb2.Status) -> AnnalsError:
    """The AnnalsError a google.rpc.Status describes. Details of other types
    than BadRequest, ErrorInfo and RetryInfo are ignored."""
    violations, reason, metadata, retry_delay = [], None, {}, None
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            violations += [(v.field, v.description) for v in bad_request.field_violations]
        elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, metadata = info.reason, dict(info.metadata)
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            retry_delay = retry.retry_delay.ToTimedelta().total_seconds()
    return AnnalsError(
        _CODES.get(status.code, grpc.StatusCode.UNKNOWN),
        status.message,
        violations,
        reason,
        metadata,
        retry_delay,
    )


def from_rpc_error(error: grpc.RpcError) -> AnnalsError:
    """The AnnalsError of a failed call (a grpc.RpcError that is also a
    grpc.Call, as every error of a call is): its code and message, and the
    details of its `grpc-status-details-bin` trailer when it has one."""
    for key, value in error.trailing_metadata() or ():
        if key == _DETAILS_KEY:
            return from_status(status_pb2.Status.FromString(value))
    return AnnalsError(error.code(), error.details() or "")
