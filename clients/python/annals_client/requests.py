"""Request messages from plain Python values: events as dicts in protobuf's
JSON mapping, dates as strings or datetime.date, expected versions and
subscription starts as the annals CLI spells them. Only the form is checked
here; annalsd validates the content (and names the offending fields)."""

import datetime
from typing import Iterable, Optional, Union

from google.protobuf import json_format

from annals_client._gen.annals.v1 import event_log_pb2, event_pb2, subscription_pb2

EventLike = Union[dict, event_pb2.Event]
DateLike = Union[str, datetime.date]
Expect = Union[None, str, int]


def event(value: EventLike) -> event_pb2.Event:
    """An annals.v1.Event: `value` itself, or parsed from a dict in the
    protobuf JSON mapping ({"id": ..., "meeting": {...}, "cameoCode": ...},
    as in clients/examples/*.json). Raises json_format.ParseError for a dict
    that is not an Event (an unknown field, a wrong type)."""
    if isinstance(value, event_pb2.Event):
        return value
    if isinstance(value, dict):
        return json_format.ParseDict(value, event_pb2.Event())
    raise TypeError(f"an event is a dict or an annals.v1.Event, got {type(value).__name__}")


def date(value: DateLike) -> event_pb2.Date:
    """An annals.v1.Date from "YYYY", "YYYY-MM", "YYYY-MM-DD" (a year, a
    month or a day) or a datetime.date. Raises ValueError for another
    string."""
    if isinstance(value, datetime.date):
        return event_pb2.Date(year=value.year, month=value.month, day=value.day)
    parts = value.split("-")
    if not 1 <= len(parts) <= 3 or not all(part.isdigit() for part in parts):
        raise ValueError(f"a date is YYYY, YYYY-MM or YYYY-MM-DD, got {value!r}")
    return event_pb2.Date(**dict(zip(("year", "month", "day"), map(int, parts))))


def append_request(
    events: Iterable[EventLike], stream: Optional[str] = None, expect: Expect = None
) -> event_log_pb2.AppendRequest:
    """An annals.v1.AppendRequest of `events` (see event()) to `stream`
    (None: the events' primary dyad, chosen by annalsd) with the expected
    version `expect`: None or "any" (any version), "none" (the stream must
    not exist), "exists" (it must exist) or an int N >= 0 (its version must
    be exactly N; 0: no stream), as `annals append --expect`. Raises
    ValueError for another `expect`."""
    request = event_log_pb2.AppendRequest(stream=stream or "", events=[event(e) for e in events])
    if expect == "any":
        request.any.SetInParent()
    elif expect == "none":
        request.no_stream.SetInParent()
    elif expect == "exists":
        request.stream_exists.SetInParent()
    elif isinstance(expect, int) and not isinstance(expect, bool) and expect >= 0:
        request.exact = expect
    elif expect is not None:
        raise ValueError(f"expect is 'any', 'none', 'exists' or a version >= 0, got {expect!r}")
    return request


def subscribe_request(
    start: Union[str, int], filter: subscription_pb2.SubscriptionFilter
) -> subscription_pb2.SubscribeRequest:
    """An annals.v1.SubscribeRequest from `start`: "now" (only what is
    committed from now on), "start" (the whole log, then live) or a
    position >= 1 (from it, inclusive). Raises ValueError for another
    `start`."""
    request = subscription_pb2.SubscribeRequest(filter=filter)
    if start == "now":
        request.from_now.SetInParent()
    elif start == "start":
        request.from_start.SetInParent()
    elif isinstance(start, int) and not isinstance(start, bool) and start >= 1:
        request.from_position = start
    else:
        raise ValueError(f"start is 'now', 'start' or a position >= 1, got {start!r}")
    return request


def dyad(a: str, b: Optional[str]) -> str:
    """The dyad "A-B" of two actor codes, or `a` itself when `b` is None
    (`a` is then already a dyad, "JPN-PRK")."""
    return a if b is None else f"{a}-{b}"
