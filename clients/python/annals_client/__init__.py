"""annals_client: a Python client of annalsd, the diplomatic timeline
service. The API contract is proto/annals/v1/*.proto; this package is a
thin layer over the modules generated from it (annals_client._gen, built by
CMake into build/python): answers are their messages (annals.v1.*), errors
AnnalsError. See README.md, "From Python".

    with annals_client.Client("localhost:7465") as client:
        client.append([event_dict])
        for event in client.read_all():
            ...
"""

from annals_client._gen.annals.v1.event_pb2 import Event, RecordedEvent
from annals_client._gen.annals.v1.subscription_pb2 import CaughtUp, FellBehind
from annals_client.client import Client
from annals_client.errors import AnnalsError
from annals_client.requests import append_request

__all__ = [
    "AnnalsError",
    "CaughtUp",
    "Client",
    "Event",
    "FellBehind",
    "RecordedEvent",
    "append_request",
]
