#!/usr/bin/env python3
"""Prints what annalsd knows of one relationship: its state, its
cooperation-conflict index and its latest events; with --follow, then every
new event of the dyad as it is recorded, without a gap.

    PYTHONPATH=build/python python3 clients/python/examples/dyad_report.py JPN PRK
    ... --server HOST:PORT --tls-ca tls/ca.pem --token TOKEN --recent 10 --follow

The server, CA and token default to $ANNALS_SERVER (else localhost:7465),
$ANNALS_TLS_CA and $ANNALS_TOKEN, as for the annals CLI. Exit status 1 when
annalsd refuses (the error on one line), 2 for a wrong command line.
"""

import argparse
import os
import sys

import annals_client


def occurred(date) -> str:
    """The date as "2018", "2018-06" or "2018-06-12"."""
    parts = [f"{date.year:04}"] + [f"{p:02}" for p in (date.month, date.day) if p]
    return "-".join(parts)


def report(client: annals_client.Client, a: str, b: str, recent: int, follow: bool) -> None:
    answer = client.relationship(a, b)
    state, index = answer.state, answer.index
    print(f"{state.dyad}: {state.event_count} events (log position {answer.head})")
    for count in state.counts:
        print(f"  {count.kind}: {count.count}")
    if index.event_count:
        print(f"  index {index.mean_tenths / 10:+.1f} over the 12 months to "
              f"{index.end_year}-{index.end_month:02} ({index.event_count} events)")
    print("latest:")
    for entry in client.timeline(dyad=state.dyad, descending=True, limit=recent):
        print(f"  {occurred(entry.event.occurred.start)} {entry.event.summary}")
    if follow:
        # From just after the state read: no event is missed or repeated.
        for item in client.subscribe(answer.head + 1, dyad=state.dyad, notices=True):
            if isinstance(item, annals_client.CaughtUp):
                print(f"(live from position {item.position})", flush=True)
            elif isinstance(item, annals_client.RecordedEvent):
                event = item.event
                print(f"  {occurred(event.occurred.start)} {event.summary}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", help="an actor code, e.g. JPN")
    parser.add_argument("b", help="the other actor code, e.g. PRK")
    parser.add_argument("--server", default=os.environ.get("ANNALS_SERVER", "localhost:7465"))
    parser.add_argument("--tls-ca", default=os.environ.get("ANNALS_TLS_CA"))
    parser.add_argument("--token", default=os.environ.get("ANNALS_TOKEN"))
    parser.add_argument("--recent", type=int, default=5, help="latest events to print")
    parser.add_argument("--follow", action="store_true", help="then print new events")
    args = parser.parse_args()
    try:
        with annals_client.Client(args.server, token=args.token, tls_ca=args.tls_ca) as client:
            report(client, args.a, args.b, args.recent, args.follow)
    except annals_client.AnnalsError as error:
        print(f"dyad_report: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
