#!/usr/bin/env python3
"""Turns deploy/bench.sh --cluster's results into the Markdown tables of
the page's "Cluster" section (deploy/bench-cluster.sh).

Input (argv[1]): lines "SYSTEM key=value ...", as tabulate.py reads them,
where SYSTEM is cl-embedded (the embedded annalsd), cl-one (every client
on replica 1), cl-spread (clients spread over the three replicas),
cl-jetstream (annals-bench-jetstream), cl-load (the generated log appended
through replica 1) or cl-catchup (a new replica reading it all). The
CPU keys are cpu_us.client, cpu_us.annalsd (embedded), cpu_us.annalsdN
and cpu_us.natsN (N = 1, 2, 3; the catch-up's replica is annalsd4), in
µs per event.

Exits 1 when a line does not parse.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tabulate import parse  # noqa: E402

FIGURES = [("cl-embedded", "embedded"), ("cl-one", "cluster, all on replica 1"),
           ("cl-spread", "cluster, spread over 3"),
           ("cl-jetstream", "JetStream alone")]


def cpu(f, key):
    v = f.get("cpu_us." + key)
    return None if v in (None, "?") else float(v)


def us(v):
    if v is None:
        return "–"
    return f"{v:.1f}" if v < 10 else f"{v:,.0f}"


def num(x):
    return f"{float(x):,.0f}"


def nodes(f):
    """Per node (annalsd + nats-server) µs/event; the embedded annalsd is
    one node of its own."""
    if cpu(f, "annalsd") is not None:
        return [cpu(f, "annalsd")]
    out = []
    for n in (1, 2, 3):
        a, s = cpu(f, f"annalsd{n}"), cpu(f, f"nats{n}")
        if a is not None or s is not None:
            out.append((a or 0) + (s or 0))
    return out


def three(f, name):
    if cpu(f, "annalsd") is not None and name == "annalsd":
        return us(cpu(f, "annalsd"))
    vals = [cpu(f, f"{name}{n}") for n in (1, 2, 3)]
    if all(v is None for v in vals):
        return "–"
    return " / ".join(us(v) for v in vals)


def total(f):
    return sum(float(v) for k, v in f.items()
               if k.startswith("cpu_us.") and v != "?")


def cpu_cells(f):
    busiest = max(nodes(f), default=None)
    return [us(cpu(f, "client")), three(f, "annalsd"), three(f, "nats"),
            us(busiest), num(1e6 / busiest) if busiest else "–", us(total(f))]


CPU_HEAD = ("client | annalsd (1 / 2 / 3) | nats-server (1 / 2 / 3) | "
            "busiest node | one core per node, events/s | all")


def appends(runs):
    rows = sorted({(int(f["concurrency"]), int(f["batch"]))
                   for s, f in runs if s in dict(FIGURES)
                   and f["scenario"] in ("append-session", "jetstream-publish")},
                  key=lambda k: (k[1], -k[0]))
    out = ["### Durable appends", "",
           "CPU in µs per event.", "",
           f"| figure | clients × events per request | events/s | p50 ms | p99 ms | {CPU_HEAD} |",
           "|---|---|---:|---:|---:|---:|---|---|---:|---:|---:|"]
    for c, b in rows:
        for system, name in FIGURES:
            for s, f in runs:
                if (s == system and f["scenario"] in ("append-session", "jetstream-publish")
                        and int(f["concurrency"]) == c and int(f["batch"]) == b):
                    out.append(f"| {name} | {c} × {b} | {num(f['events_per_s'])} | "
                               f"{float(f['p50_ms']):.2f} | {float(f['p99_ms']):.2f} | "
                               + " | ".join(cpu_cells(f)) + " |")
    return out


def fanout(runs):
    out = ["### Fan-out", "",
           "CPU in µs per appended event (each delivered to every subscriber).", "",
           "| figure | subscribers | events/s | deliveries/s | p50 ms | p99 ms | "
           f"p99.9 ms | max ms | append p99 ms | {CPU_HEAD} |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|"]
    for system, name in FIGURES:
        for s, f in runs:
            if s == system and f["scenario"] == "fanout":
                out.append(f"| {name} | {num(f['subscribers'])} | {num(f['events_per_s'])} | "
                           f"{num(f['deliveries_per_s'])} | {float(f['p50_ms']):.1f} | "
                           f"{float(f['p99_ms']):.1f} | {float(f['p999_ms']):.1f} | "
                           f"{float(f['max_ms']):.1f} | {float(f['append_p99_ms']):.1f} | "
                           + " | ".join(cpu_cells(f)) + " |")
    return out


def materialization(runs):
    out = ["### Materialization", "",
           "| figure | events | appends (messages) | s | events/s | "
           "annalsd µs/event | nats-server µs/event (1 / 2 / 3) | "
           "annalsd: one core, events/s | peak RSS MiB | tree head |",
           "|---|---:|---:|---:|---:|---:|---|---:|---:|---|"]
    for s, f in runs:
        if s == "cl-load":
            out.append(f"| generated log appended through replica 1 "
                       f"({f['concurrency']} clients × {f['batch']} events) | "
                       f"{num(f['events'])} | {num(f['calls'])} | {float(f['seconds']):.1f} | "
                       f"{num(f['events_per_s'])} | – | – | – | – | – |")
    for s, f in runs:
        if s == "cl-catchup":
            a = cpu(f, "annalsd4")
            out.append(f"| new replica catching up (replica 4) | {num(f['events'])} | "
                       f"{num(f['appends'])} | {float(f['seconds']):.1f} | "
                       f"{num(f['events_per_s'])} | {us(a)} | {three(f, 'nats')} | "
                       f"{num(1e6 / a) if a else '–'} | {f['peak_rss_mib']} | "
                       f"{'equal to replica 1' if f['heads_match'] == 'yes' else 'DIFFERS'} |")
    return out


def mean(vals):
    vals = [v for v in vals if v is not None]
    return sum(vals) / len(vals) if vals else None


def node_sentence(f):
    """"annalsd A + nats-server N = T µs/event (busiest B) → R events/s"."""
    if cpu(f, "annalsd") is not None:
        a = cpu(f, "annalsd")
        return f"annalsd {us(a)} µs/event → {num(1e6 / a)} events/s"
    a = mean([cpu(f, f"annalsd{n}") for n in (1, 2, 3)])
    n = mean([cpu(f, f"nats{n}") for n in (1, 2, 3)])
    busiest = max(nodes(f))
    return (f"annalsd {us(a)} + nats-server {us(n)} = {us(a + n)} µs/event "
            f"on the mean node, {us(busiest)} on the busiest → "
            f"{num(1e6 / busiest)} events/s")


def per_node(runs):
    """One line per figure: what a one-core node would sustain."""
    out = ["### Per node", "",
           "What one core per node sustains, from the CPU per event above "
           "(the busiest node's; the client on machines of its own):", ""]
    for scenario, label in (("append-session", "Appends"), ("fanout", "Fan-out")):
        for s, f in runs:
            if f["scenario"] not in (scenario, "jetstream-publish" if scenario == "append-session" else ""):
                continue
            name = dict(FIGURES).get(s)
            if name is None:
                continue
            shape = (f"{f['concurrency']} × {f['batch']}" if "concurrency" in f
                     else f"{num(f['subscribers'])} subscribers")
            out.append(f"- {label}, {shape}, {name}: {node_sentence(f)}.")
    for s, f in runs:
        if s == "cl-catchup":
            a = cpu(f, "annalsd4")
            n = mean([cpu(f, f"nats{k}") for k in (1, 2, 3)])
            out.append(f"- A new replica catching up: annalsd {us(a)} + "
                       f"nats-server {us(n)} µs/event (the mean server's) → "
                       f"{num(1e6 / (a + n))} events/s.")
    return out


def main():
    try:
        runs = parse(sys.argv[1])
    except ValueError as e:
        print(f"cluster_tables.py: {e}", file=sys.stderr)
        return 1
    print("\n".join(appends(runs) + [""] + fanout(runs) + [""]
                    + materialization(runs) + [""] + per_node(runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
