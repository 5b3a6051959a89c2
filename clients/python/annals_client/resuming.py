"""Following a server stream across disconnects, as `annals watch` does
(clients/cli/watch_command.cc): when a stream that has delivered something
ends with UNAVAILABLE (annalsd shut down or restarted, the connection
dropped), it is opened again after a backoff. CANCELLED is not retried:
in Python it is what closing the Client does to its calls."""

import logging
import time
from typing import Callable, Iterator, TypeVar

import grpc

from annals_client import errors

Message = TypeVar("Message")

INITIAL_BACKOFF = 0.1  # seconds before the first reopening
MAX_BACKOFF = 2.0  # the backoff doubles up to this while nothing arrives

_log = logging.getLogger("annals_client")


def follow(open_stream: Callable[[], Iterator[Message]]) -> Iterator[Message]:
    """Yields the messages of `open_stream()` (a server-streaming call),
    calling it again whenever the stream ends with UNAVAILABLE after at
    least one message (since the first call): `open_stream` must
    then ask for what follows the last message yielded. Each reopening is
    logged (logger "annals_client", WARNING). Returns when a stream ends
    with OK; raises AnnalsError when one ends with another error, or fails
    before anything was ever received. Closing the generator cancels the
    call in progress."""
    received = False
    delay = INITIAL_BACKOFF
    while True:
        call = open_stream()
        received_now = False
        try:
            for message in call:
                received = received_now = True
                yield message
            return
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE or not received:
                raise errors.from_rpc_error(error) from error
            failure = errors.from_rpc_error(error)
        finally:
            call.cancel()
        if received_now:
            delay = INITIAL_BACKOFF
        _log.warning("%s; reconnecting in %.1f s", failure, delay)
        time.sleep(delay)
        delay = min(MAX_BACKOFF, delay * 2)
