"""Client: annalsd's services (proto/annals/v1/*.proto, the contract) as
Python methods over the generated stubs. Arguments are plain values,
answers the generated messages; every failure is an AnnalsError."""

import itertools
from typing import Iterable, Iterator, Optional, Union

import grpc

from annals_client import errors, requests, resuming
from annals_client._gen.annals.v1 import (
    audit_pb2,
    audit_pb2_grpc,
    event_log_pb2,
    event_log_pb2_grpc,
    event_pb2,
    query_pb2,
    query_pb2_grpc,
    server_info_pb2,
    server_info_pb2_grpc,
    subscription_pb2,
    subscription_pb2_grpc,
)
from annals_client._gen.grpc.health.v1 import health_pb2, health_pb2_grpc

# HTTP/2 keepalive as the C++ client has it (README.md, "Long-lived streams
# and keepalive"): a subscription over a dead connection ends with
# UNAVAILABLE within 40 s instead of hanging.
_CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.keepalive_permit_without_calls", 0),
]
_REBUILD_TIMEOUT = 600.0  # seconds: a rebuild replays the whole log
_BACKUP_TIMEOUT = 1800.0  # seconds: a first backup copies the whole log
# Events per subscription message: batches are much cheaper to send and
# parse than one message per event; subscribe hands them on one by one.
_SUBSCRIBE_BATCH = 100
_MAX_PAGE = 1000  # the most items annalsd returns per page


def _direction(backward: bool) -> int:
    return event_log_pb2.DIRECTION_BACKWARD if backward else event_log_pb2.DIRECTION_FORWARD


def _read(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


class Client:
    """A client of one annalsd. Thread-safe; connects lazily, on the first
    call. A context manager: leaving the `with` block closes it.

    Every unary call has a deadline of `timeout` seconds; streams
    (subscribe, watch_relationship, append_session) have none (keepalive
    finds a dead connection). Every failure raises AnnalsError, with the
    field violations, ErrorInfo and retry hint annalsd sent.

    Args:
      address: "HOST:PORT" of annalsd ("localhost:7465").
      token: a bearer token (`annals admin token create`), sent as
        "authorization: Bearer TOKEN" on every call, over plaintext too.
      tls_ca: PEM file of the CA that signed annalsd's certificate: the
        client speaks TLS and checks annalsd against it. None: plaintext.
      tls_cert, tls_key: PEM files of this client's certificate and key,
        for mutual TLS. Both or neither, and only with tls_ca.
      timeout: the deadline of each unary call, in seconds.

    Raises ValueError when tls_cert and tls_key do not go together or come
    without tls_ca, OSError when a TLS file cannot be read.
    """

    def __init__(
        self,
        address: str,
        token: Optional[str] = None,
        tls_ca: Optional[str] = None,
        tls_cert: Optional[str] = None,
        tls_key: Optional[str] = None,
        timeout: float = 10.0,
    ):
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        if tls_cert is not None and tls_ca is None:
            raise ValueError("tls_cert and tls_key need tls_ca")
        if tls_ca is None:
            self._channel = grpc.insecure_channel(address, options=_CHANNEL_OPTIONS)
        else:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=_read(tls_ca),
                private_key=_read(tls_key) if tls_key else None,
                certificate_chain=_read(tls_cert) if tls_cert else None,
            )
            self._channel = grpc.secure_channel(address, credentials, options=_CHANNEL_OPTIONS)
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._timeout = timeout
        self._event_log = event_log_pb2_grpc.EventLogStub(self._channel)
        self._relationships = query_pb2_grpc.RelationshipsStub(self._channel)
        self._admin = query_pb2_grpc.AdminStub(self._channel)
        self._subscriptions = subscription_pb2_grpc.SubscriptionsStub(self._channel)
        self._audit = audit_pb2_grpc.AuditStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)
        self._server_info = server_info_pb2_grpc.ServerInfoStub(self._channel)

    def close(self) -> None:
        """Closes the connection; calls in progress end with CANCELLED."""
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _call(self, method, request, timeout: Optional[float] = None):
        """`method(request)` with the deadline and the token; an error as
        AnnalsError."""
        try:
            return method(request, timeout=timeout or self._timeout, metadata=self._metadata)
        except grpc.RpcError as error:
            raise errors.from_rpc_error(error) from error

    def _stream(self, method, request):
        """The call `method(request)` of a server stream, with the token."""
        return method(request, metadata=self._metadata)

    @staticmethod
    def _limited(items: Iterator, limit: Optional[int]) -> Iterator:
        return items if limit is None else itertools.islice(items, limit)

    @staticmethod
    def _page_size(page_size: int, limit: Optional[int]) -> int:
        """`page_size`, or when it is 0 (annalsd's default) and `limit` is
        smaller than a page can be, `limit`: no more is fetched than will
        be yielded."""
        return page_size or min(limit or 0, _MAX_PAGE)

    # --- EventLog (proto/annals/v1/event_log.proto) ---

    def append(
        self,
        events: Iterable[requests.EventLike],
        stream: Optional[str] = None,
        expect: requests.Expect = None,
    ) -> event_log_pb2.AppendResponse:
        """Appends `events` to one stream, atomically, and returns once they
        are durable: the AppendResponse's `positions` are theirs, in order
        (also `stream`, `stream_version`, `already_recorded`, `head`).

        events: dicts in protobuf's JSON mapping or annals.v1.Event
          messages. stream: None for the events' primary dyad ("JPN-PRK").
        expect: None or "any", "none", "exists", or a version N >= 0
          (FAILED_PRECONDITION, reason WRONG_EXPECTED_VERSION, when the
          stream is not so at commit).

        Idempotent by event id: a retry returns the original positions.
        """
        return self._call(self._event_log.Append, requests.append_request(events, stream, expect))

    def append_session(
        self, appends: Iterable[event_log_pb2.AppendRequest]
    ) -> Iterator[Union[event_log_pb2.AppendResponse, errors.AnnalsError]]:
        """Pipelines `appends` (see requests.append_request) on one
        EventLog.AppendSession stream, sending while acknowledgements come
        back, and yields one result per request, in request order: its
        AppendResponse once durable, or the AnnalsError it failed with (not
        raised: the session goes on with the next request). Raises
        AnnalsError when the stream itself fails; requests without a result
        then may or may not have been recorded (retry them: appends are
        idempotent by event id)."""
        session = self._event_log.AppendSession(
            (
                event_log_pb2.AppendSessionRequest(correlation_id=number, append=append)
                for number, append in enumerate(appends)
            ),
            metadata=self._metadata,
        )
        try:
            for response in session:
                for ack in response.acks:
                    if ack.HasField("error"):
                        yield errors.from_status(ack.error)
                    else:
                        yield ack.appended
        except grpc.RpcError as error:
            raise errors.from_rpc_error(error) from error
        finally:
            session.cancel()

    def read_all(
        self,
        from_position: int = 0,
        backward: bool = False,
        limit: Optional[int] = None,
        page_size: int = 0,
    ) -> Iterator[event_pb2.RecordedEvent]:
        """Yields the recorded events of the whole log from `from_position`
        (inclusive; 0: the first position, or the head when `backward`),
        in position order (reversed when `backward`), following pages until
        the end of the log or `limit` events. page_size: events per call,
        1 ... 1000 (0: annalsd's default, 100)."""
        events = self._read_all(from_position, backward, self._page_size(page_size, limit))
        return self._limited(events, limit)

    def _read_all(self, from_position, backward, page_size):
        request = event_log_pb2.ReadAllRequest(
            from_position=from_position,
            direction=_direction(backward),
            limit=page_size,
        )
        while True:
            page = self._call(self._event_log.ReadAll, request)
            yield from page.events
            if page.end_of_log or not page.events:
                return
            request.from_position = page.next_position

    def read_stream(
        self,
        stream: str,
        from_version: int = 0,
        backward: bool = False,
        limit: Optional[int] = None,
        page_size: int = 0,
    ) -> Iterator[event_pb2.RecordedEvent]:
        """Yields the recorded events of `stream` from `from_version`
        (inclusive; 0: the first version, or the last when `backward`),
        following pages until the end of the stream or `limit` events. A
        stream that does not exist yields nothing. page_size as read_all."""
        page_size = self._page_size(page_size, limit)
        return self._limited(self._read_stream(stream, from_version, backward, page_size), limit)

    def _read_stream(self, stream, from_version, backward, page_size):
        request = event_log_pb2.ReadStreamRequest(
            stream=stream,
            from_version=from_version,
            direction=_direction(backward),
            limit=page_size,
        )
        while True:
            page = self._call(self._event_log.ReadStream, request)
            yield from page.events
            if page.end_of_stream or not page.events:
                return
            request.from_version = page.next_version

    def get_event(self, event_id: str) -> event_log_pb2.GetEventResponse:
        """The event with this id as recorded (`event`) and its corrections
        (`corrections`, in position order). NOT_FOUND for an unknown id."""
        return self._call(self._event_log.GetEvent, event_log_pb2.GetEventRequest(id=event_id))

    def health(self, service: str = "") -> str:
        """The serving status of `service` ("" for annalsd as a whole):
        "SERVING" while appends can succeed, else "NOT_SERVING"."""
        response = self._call(self._health.Check, health_pb2.HealthCheckRequest(service=service))
        return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)

    def server_info(self) -> server_info_pb2.GetServerInfoResponse:
        """annalsd's version, commit, start time, head, durability,
        projection version and whether appends can succeed now."""
        return self._call(self._server_info.GetServerInfo,
                          server_info_pb2.GetServerInfoRequest())

    # --- Relationships and Admin (proto/annals/v1/query.proto) ---

    def relationship(
        self,
        a: str,
        b: Optional[str] = None,
        as_of: Optional[requests.DateLike] = None,
        as_of_position: Optional[int] = None,
    ) -> query_pb2.GetRelationshipResponse:
        """The state of the dyad of actors `a` and `b` ("JPN", "PRK"; or `a`
        alone as "JPN-PRK"): now; as of a date (`as_of`: "YYYY", "YYYY-MM",
        "YYYY-MM-DD" or a datetime.date: what had happened by its end); or
        as the log knew it at a position (`as_of_position`). Returns the
        GetRelationshipResponse (`state`, `index`, `head`). Raises
        ValueError when both `as_of` and `as_of_position` are given."""
        if as_of is not None and as_of_position is not None:
            raise ValueError("as_of and as_of_position exclude each other")
        request = query_pb2.GetRelationshipRequest(dyad=requests.dyad(a, b))
        if as_of is not None:
            request.as_of_date.CopyFrom(requests.date(as_of))
        if as_of_position is not None:
            request.as_of_position = as_of_position
        return self._call(self._relationships.GetRelationship, request)

    def relationships(
        self,
        order: str = "activity",
        ascending: bool = False,
        actor: Optional[str] = None,
        limit: Optional[int] = None,
        page_size: int = 0,
    ) -> Iterator[query_pb2.RelationshipSummary]:
        """Yields the dyads with events, following page tokens, up to
        `limit`: by most recent activity (order "activity") or most
        cooperative index (order "index"); `ascending` reverses; `actor`
        keeps only its dyads. page_size: per call, 1 ... 1000 (0: 50).
        Raises ValueError for another order."""
        orders = {
            "activity": query_pb2.ListRelationshipsRequest.ORDER_BY_RECENT_ACTIVITY,
            "index": query_pb2.ListRelationshipsRequest.ORDER_BY_INDEX,
        }
        if order not in orders:
            raise ValueError(f"order is 'activity' or 'index', got {order!r}")
        request = query_pb2.ListRelationshipsRequest(
            order_by=orders[order],
            ascending=ascending,
            actor=actor or "",
            page_size=self._page_size(page_size, limit),
        )
        pages = self._pages(self._relationships.ListRelationships, request, "relationships")
        return self._limited(pages, limit)

    def timeline(
        self,
        dyad: Optional[str] = None,
        actor: Optional[str] = None,
        kinds: Iterable[str] = (),
        tags: Iterable[str] = (),
        from_date: Optional[requests.DateLike] = None,
        to_date: Optional[requests.DateLike] = None,
        text: Optional[str] = None,
        descending: bool = False,
        limit: Optional[int] = None,
        page_size: int = 0,
        include_overlapping: bool = False,
    ) -> Iterator[query_pb2.TimelineEntry]:
        """Yields the effective events (corrections applied, retractions
        left out) of a `dyad` ("JPN-PRK"), of an `actor`, or of the whole
        log, in occurred order (most recent first when `descending`),
        following page tokens, up to `limit`. Filters: `kinds` ("meeting",
        "statement", ...), `tags`, occurred dates from/to (the first day
        of `from_date` through the last day of `to_date`: "2018",
        "2019-06", datetime.date) and `text` in the summary. Dates are
        intervals: an event dated "2002-09" lies within 2002-09-01 ...
        2002-09-30; with `include_overlapping`, the events that only
        overlap the range come too, with `entry.overlapping` set.
        page_size: entries per call, 1 ... 1000 (0: 50)."""
        request = query_pb2.QueryTimelineRequest(
            dyad=dyad or "",
            actor=actor or "",
            kinds=kinds,
            tags=tags,
            text=text or "",
            descending=descending,
            include_overlapping=include_overlapping,
            page_size=self._page_size(page_size, limit),
        )
        if from_date is not None:
            getattr(request, "from").CopyFrom(requests.date(from_date))
        if to_date is not None:
            request.to.CopyFrom(requests.date(to_date))
        pages = self._pages(self._relationships.QueryTimeline, request, "entries")
        return self._limited(pages, limit)

    def _pages(self, method, request, field: str) -> Iterator:
        """The items in `field` of every page of `method`, following
        `next_page_token`."""
        while True:
            page = self._call(method, request)
            yield from getattr(page, field)
            if not page.next_page_token:
                return
            request.page_token = page.next_page_token

    def rebuild_projections(self, repair: bool = False) -> query_pb2.RebuildProjectionsResponse:
        """Recomputes the projections from the log and compares them with
        the stored ones (`matched`); with `repair`, replaces them when they
        differ (appends wait meanwhile). Deadline 10 minutes."""
        request = query_pb2.RebuildProjectionsRequest(repair=repair)
        return self._call(self._admin.RebuildProjections, request, timeout=_REBUILD_TIMEOUT)

    def create_backup(self, to: str) -> query_pb2.CreateBackupResponse:
        """Makes the server take an online backup of its log into `to`, an
        absolute path on the server's host, with the signed tree head of the
        backed-up log beside it (`tree_head_file`). Deadline 30 minutes."""
        request = query_pb2.CreateBackupRequest(to=to)
        return self._call(self._admin.CreateBackup, request, timeout=_BACKUP_TIMEOUT)

    # --- Subscriptions (proto/annals/v1/subscription.proto) ---

    def subscribe(
        self,
        start: Union[str, int] = "now",
        stream: Optional[str] = None,
        dyad: Optional[str] = None,
        actor: Optional[str] = None,
        kinds: Iterable[str] = (),
        tags: Iterable[str] = (),
        notices: bool = False,
    ) -> Iterator[Union[event_pb2.RecordedEvent, subscription_pb2.CaughtUp,
                        subscription_pb2.FellBehind]]:
        """Yields recorded events from `start` ("now", "start" or a position
        >= 1), in position order, each once: those already recorded, then
        live ones as they are committed; never ends by itself (close the
        generator, or break out of the loop, to stop). Only events matching
        every filter given (stream, dyad, actor, one of `kinds`, one of
        `tags`).

        With `notices`, also yields the stream's notices in place: an
        annals.v1.CaughtUp when everything up to the head was delivered
        (what follows is live), an annals.v1.FellBehind when the
        subscription fell out of annalsd's window of recent events (it
        catches up from storage; nothing is lost). Tell them apart with
        isinstance.

        When the connection drops or annalsd restarts (UNAVAILABLE), the
        subscription resumes from the last position it saw plus one, with
        a backoff (resuming.follow), so no event is missed or repeated.
        Raises AnnalsError for any other error, or when the first call
        fails (INVALID_ARGUMENT naming "filter.dyad", ...); ValueError at
        once for another `start`."""
        filter = subscription_pb2.SubscriptionFilter(
            stream=stream or "", dyad=dyad or "", actor=actor or "", kinds=kinds, tags=tags
        )
        request = requests.subscribe_request(start, filter)
        request.max_events_per_message = _SUBSCRIBE_BATCH
        return self._subscription(request, notices)

    def _subscription(self, request, notices):
        subscribe = self._subscriptions.Subscribe
        messages = resuming.follow(lambda: self._stream(subscribe, request))
        for message in messages:
            kind = message.WhichOneof("message")
            if kind in ("event", "events"):
                for event in [message.event] if kind == "event" else message.events.events:
                    request.from_position = event.position + 1
                    yield event
                continue
            notice = getattr(message, kind)
            request.from_position = notice.position + 1
            if notices and kind != "checkpoint":
                yield notice

    def watch_relationship(
        self, a: str, b: Optional[str] = None
    ) -> Iterator[subscription_pb2.WatchRelationshipResponse]:
        """Yields the state of the dyad of `a` and `b` (or `a` = "A-B") now,
        then again after every commit that changes it; never ends by itself.
        Reconnects as subscribe does, and skips the state annalsd sends
        again after a reconnect when it did not change."""
        request = subscription_pb2.WatchRelationshipRequest(dyad=requests.dyad(a, b))
        last = None
        watch = self._subscriptions.WatchRelationship
        for response in resuming.follow(lambda: self._stream(watch, request)):
            state = response.state.SerializeToString()
            if state != last:
                last = state
                yield response

    # --- Audit (proto/annals/v1/audit.proto) ---

    def tree_head(self) -> audit_pb2.SignedTreeHead:
        """The current signed tree head (tree_size, root_hash, timestamp,
        key_id, Ed25519 signature over the bytes audit.proto describes)."""
        return self._call(self._audit.GetTreeHead, audit_pb2.GetTreeHeadRequest()).tree_head

    def prove_inclusion(self, position: int, tree_size: int) -> audit_pb2.ProveInclusionResponse:
        """The audit path of `position` in the tree of `tree_size` leaves,
        with the position's stored bytes."""
        request = audit_pb2.ProveInclusionRequest(position=position, tree_size=tree_size)
        return self._call(self._audit.ProveInclusion, request)

    def prove_consistency(self, old_size: int, new_size: int) -> audit_pb2.ProveConsistencyResponse:
        """The RFC 6962 consistency proof between two tree sizes."""
        request = audit_pb2.ProveConsistencyRequest(old_size=old_size, new_size=new_size)
        return self._call(self._audit.ProveConsistency, request)

    def public_key(self) -> audit_pb2.GetPublicKeyResponse:
        """The key tree heads are signed with: `public_key_pem`, `key_id`."""
        return self._call(self._audit.GetPublicKey, audit_pb2.GetPublicKeyRequest())

    def read_stored(
        self, from_position: int = 1, limit: Optional[int] = None, page_size: int = 0
    ) -> Iterator[audit_pb2.StoredEvent]:
        """Yields positions exactly as stored (the bytes the Merkle tree
        covers and the chain hash) from `from_position` to the head, or
        `limit` of them. Needs the role auditor when annalsd authenticates.
        page_size: positions per call, 1 ... 1000 (0: 100)."""
        page_size = self._page_size(page_size, limit)
        return self._limited(self._read_stored(from_position, page_size), limit)

    def _read_stored(self, from_position, page_size):
        request = audit_pb2.ReadStoredRequest(from_position=from_position, max_count=page_size)
        while True:
            page = self._call(self._audit.ReadStored, request)
            yield from page.events
            if not page.events or page.events[-1].position >= page.head:
                return
            request.from_position = page.events[-1].position + 1
