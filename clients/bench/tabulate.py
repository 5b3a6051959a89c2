#!/usr/bin/env python3
"""Turns deploy/bench.sh's results into Markdown tables.

Input (argv[1]): lines "SYSTEM key=value key=value ...", one per run, where
the key=value part is what annals-bench and the drivers in clients/bench
print (scenario, concurrency, batch, events_per_s, p50_ms, p99_ms, p999_ms,
errors, cpu_us.client, cpu_us.LABEL, cpu_threads.LABEL, ...). SYSTEM is
annals (unary Append), annals-session (AppendSession), raw, postgres (client
transactions), postgres-fn (one server-side function call per append) or
redis, annals-session-round and redis-round for the target figures run
again in alternating rounds, annals-big-session (after idle) and
annals-big-steady (after a warm-up) for AppendSession on the large log,
annals-big-round and annals-fresh-round for those run again in rounds
alternating the large log with a new one, annals-big for the other
figures on the large log,
annals-http for the HTTP gateway's against gRPC, or annals-other for
annals-bench's further scenarios. Writes Markdown to stdout: every table
but the HTTP gateway's, or with --http (argv[2]) only those.

Exits 1 when a line does not parse (the smoke test relies on it).
"""
import sys

SYSTEMS = ["annals", "annals-session", "raw", "postgres", "postgres-fn",
           "redis"]
NAMES = {"annals": "annals", "annals-session": "annals AppendSession",
         "raw": "raw RocksDB", "postgres": "PostgreSQL",
         "postgres-fn": "PostgreSQL function", "redis": "Redis"}
# annals itself, unary Append and AppendSession: each gets ratios to the
# others (the peers).
OURS = ["annals", "annals-session"]
# The --cpu-pids label of each system's server: its CPU per event is
# cpu_us.LABEL. raw RocksDB has none: it runs in the driver's process, all
# its work in cpu_us.client.
SERVER = {"annals": "annalsd", "annals-session": "annalsd",
          "annals-big-session": "annalsd", "annals-big-steady": "annalsd",
          "postgres": "postgres",
          "postgres-fn": "postgres", "redis": "redis",
          "annals-session-round": "annalsd", "redis-round": "redis",
          "annals-big-round": "annalsd", "annals-fresh-round": "annalsd"}


def parse(path):
    runs = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            system, _, rest = line.partition(" ")
            fields = {}
            for kv in rest.split():
                k, sep, v = kv.partition("=")
                if not sep or not k:
                    raise ValueError(f"line {n}: not key=value: {kv!r}")
                fields[k] = v
            if "scenario" not in fields:
                raise ValueError(f"line {n}: no scenario=")
            runs.append((system, fields))
    return runs


def num(x):
    return f"{float(x):,.0f}"


def ratio(a, b):
    if a is None or b is None or float(b) == 0:
        return ""
    return f"{float(a) / float(b):.2f}×"


def micros(x):
    """A CPU figure in µs, one decimal under 100; "?" unread, "–" none."""
    if x is None:
        return "–"
    if x == "?":
        return "?"
    return f"{float(x):,.1f}" if float(x) < 100 else f"{float(x):,.0f}"


def server_cpu(system, f):
    """The server's CPU µs/event of a run: the driver's own for raw."""
    if f is None:
        return None
    if system == "raw":
        return f.get("cpu_us.client")
    return f.get(f"cpu_us.{SERVER.get(system, '')}")


def appends_by(runs, systems):
    """{(system, concurrency, batch): fields} of the append runs."""
    return {(s, f.get("concurrency"), f.get("batch")): f for s, f in runs
            if s in systems and "events_per_s" in f and "batch" in f}


def append_table(runs, title, keys):
    """keys: list of (concurrency, batch) rows."""
    by = appends_by(runs, SYSTEMS)
    present = [s for s in SYSTEMS if any(k[0] == s for k in by)]
    if not present:
        return ""
    out = [f"### {title}", ""]
    head = ["clients", "events/call"]
    for s in present:
        head += [f"{NAMES[s]} events/s", f"{NAMES[s]} p99 ms"]
    ours = [s for s in present if s in OURS]
    peers = [s for s in present if s not in OURS]
    head += [f"{NAMES[o]} ÷ {NAMES[s]}" for o in ours for s in peers]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---:|" * len(head))
    for c, b in keys:
        row = [c, b]
        if not any((s, c, b) in by for s in present):
            continue
        for s in present:
            f = by.get((s, c, b))
            row += [num(f["events_per_s"]) if f else "–",
                    f["p99_ms"] if f and "p99_ms" in f else "–"]
        for o in ours:
            a = by.get((o, c, b))
            for s in peers:
                p = by.get((s, c, b))
                row.append(ratio(a and a["events_per_s"],
                                 p and p["events_per_s"]))
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    return "\n".join(out)


CPU_NOTE = ("µs of CPU per event acknowledged over each figure's measured "
            "interval: the server's (annalsd; PostgreSQL's postmaster with "
            "all its processes; redis-server) / the driver's. raw RocksDB "
            "runs in the driver: its one figure is all the work.")


def cpu_table(runs, title, keys, note=CPU_NOTE):
    """The CPU per event of append_table's runs, same rows and systems."""
    by = appends_by(runs, SYSTEMS)
    present = [s for s in SYSTEMS if any(k[0] == s for k in by)]
    if not any("cpu_us.client" in f for f in by.values()):
        return ""
    out = [f"### {title}", "", note, ""]
    head = ["clients", "events/call"]
    for s in present:
        head.append(f"{NAMES[s]}, in-process" if s == "raw"
                    else f"{NAMES[s]}: server / client")
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---:|" * len(head))
    for c, b in keys:
        if not any((s, c, b) in by for s in present):
            continue
        row = [c, b]
        for s in present:
            f = by.get((s, c, b))
            if f is None:
                row.append("–")
            elif s == "raw":
                row.append(micros(f.get("cpu_us.client")))
            else:
                row.append(f"{micros(server_cpu(s, f))} / "
                           f"{micros(f.get('cpu_us.client'))}")
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    return "\n".join(out)


# annalsd's threads by what they do (cpu_threads.annalsd, named in
# docs/operations.md): its own named threads, RocksDB's background pool,
# and gRPC's (every other name but the main thread's).
THREAD_PARTS = ["writer", "syncer", "gRPC", "RocksDB flushes, compactions",
                "other"]


def thread_part(name):
    if name == "annals-writer":
        return "writer"
    if name == "annals-syncer":
        return "syncer"
    if name.startswith("rocksdb_"):
        return "RocksDB flushes, compactions"
    if name.startswith("annals"):  # its other threads, the main one
        return "other"
    return "gRPC"


def thread_table(runs):
    """annalsd's CPU per event by thread, for the append runs of annals."""
    rows = []
    for s, f in runs:
        spec = f.get("cpu_threads.annalsd")
        if (s not in SERVER or s.endswith("-round") or not spec
                or "batch" not in f):
            continue
        parts = dict.fromkeys(THREAD_PARTS, 0.0)
        for item in spec.split(","):
            name, sep, us = item.rpartition(":")
            if not sep:
                raise ValueError(f"cpu_threads.annalsd: not NAME:US: {item!r}")
            parts[thread_part(name)] += float(us)
        rows.append((s, f, parts))
    if not rows:
        return ""
    out = ["### annalsd's CPU per event by thread", "",
           "µs of annalsd's CPU per event acknowledged, as in the tables "
           "above, by the threads that spent it (names in "
           "[operations.md](operations.md), \"Threads\"; a thread that "
           "ended during a figure's interval is left out).", ""]
    head = ["system", "clients", "events/call"] + THREAD_PARTS + ["all"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|---|" + "---:|" * (len(head) - 1))
    for s, f, parts in rows:
        out.append("| " + " | ".join(
            [s, f.get("concurrency", ""), f["batch"]] +
            [micros(parts[p]) for p in THREAD_PARTS] +
            [micros(sum(parts.values()))]) + " |")
    out.append("")
    return "\n".join(out)


def big_appends_table(runs):
    """AppendSession on the large log against the same clients and batch on
    the fresh log (annals-session): first just after annalsd was idle
    (annals-big-session), then after a warm-up of the same appends
    (annals-big-steady), when run."""
    by = appends_by(runs, ["annals-session", "annals-big-session",
                           "annals-big-steady"])
    keys = [(c, b) for s, c, b in by if s == "annals-big-session"]
    if not keys:
        return ""
    out = ["### Appends on the large log", "",
           "AppendSession, durable, on the large log against the same "
           "figure on the fresh log above; annalsd's CPU µs per event. "
           "First once annalsd had been idle, then after appending the "
           "same way, unmeasured, for the warm-up given.", "",
           "| clients | events/request | large log run | "
           "fresh log events/s | large log events/s | large ÷ fresh | "
           "fresh log p99 ms | large log p99 ms | "
           "fresh log annalsd µs/event | large log annalsd µs/event |",
           "|" + "---:|" * 2 + "---|" + "---:|" * 7]
    for c, b in keys:
        fresh = by.get(("annals-session", c, b))
        for s in ["annals-big-session", "annals-big-steady"]:
            big = by.get((s, c, b))
            if big is None:
                continue
            run = ("after idle" if s == "annals-big-session" else
                   f"after {big.get('warmup_s', '?')} s warm-up")
            out.append("| " + " | ".join([
                c, b, run, num(fresh["events_per_s"]) if fresh else "–",
                num(big["events_per_s"]),
                ratio(big["events_per_s"], fresh and fresh["events_per_s"]),
                fresh.get("p99_ms", "–") if fresh else "–",
                big.get("p99_ms", "–"),
                micros(server_cpu("annals-session", fresh)),
                micros(server_cpu(s, big))]) + " |")
    out.append("")
    return "\n".join(out)


def big_table(runs):
    """The figures on the large generated log: SYSTEM annals-big."""
    rows = [(f) for s, f in runs if s == "annals-big"]
    if not rows:
        return ""
    out = ["### A large log", "",
           "| figure | clients | rate | p50 ms | p99 ms | p99.9 ms | errors |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    # deploy/bench.sh catches up more than once, since one ~2 s run is at
    # the mercy of this machine's spells: their median follows them.
    catchups = [f for f in rows if f.get("scenario") == "catchup"]
    for f in rows:
        g = lambda k: f.get(k, "")
        what = g("scenario")
        for k in ("as_of", "dyads", "filter", "subscribers"):
            if k in f:
                what += f" {k}={f[k]}"
        if "warmup_s" in f:
            what += (" (cold: no warm-up)" if float(f["warmup_s"]) == 0
                     else f" (after {f['warmup_s']} s warm-up)")
        if "events" in f and g("scenario") == "generate":
            what += f" ({num(g('events'))} events)"
        rate = ""
        if "queries_per_s" in f:
            rate = num(g("queries_per_s")) + " queries/s"
        elif "events_per_s" in f:
            rate = num(g("events_per_s")) + " events/s"
        out.append("| " + " | ".join([
            what, g("concurrency"), rate, g("p50_ms"), g("p99_ms"),
            g("p999_ms"), g("errors")]) + " |")
        if len(catchups) > 1 and f is catchups[-1]:
            rate = median([float(c["events_per_s"]) for c in catchups])
            errors = sum(int(c.get("errors", "0")) for c in catchups)
            out.append(f"| catchup, median of {len(catchups)} |  | "
                       f"{num(rate)} events/s |  |  |  | {errors} |")
    out.append("")
    return "\n".join(out)


def http_tables(runs):
    """The HTTP gateway against gRPC: SYSTEM annals-http."""
    rows = [f for s, f in runs if s == "annals-http"]
    if not rows:
        return ""
    out = []
    queries = [f for f in rows if "queries_per_s" in f]
    if queries:
        out += ["### GetRelationship over HTTP and gRPC", "",
                "| call | clients | calls/s | p50 ms | p99 ms | p99.9 ms | "
                "answer bytes | annalsd CPU µs/call | client CPU µs/call | "
                "errors |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for f in queries:
            g = lambda k: f.get(k, "")
            http = g("scenario").startswith("http-")
            call = ("HTTP GET /v1/relationships/" if http
                    else "gRPC GetRelationship ") + g("dyad")
            if g("as_of") not in ("", "none"):
                call += f" as_of={g('as_of')}"
            answer = num(g("response_bytes")) if g("response_bytes") else ""
            out.append("| " + " | ".join([
                call, g("concurrency"), num(g("queries_per_s")), g("p50_ms"),
                g("p99_ms"), g("p999_ms"), answer,
                g("server_cpu_us_per_query"), g("client_cpu_us_per_query"),
                g("errors")]) + " |")
        out.append("")
    fanouts = [f for f in rows if f.get("scenario") == "sse-fanout"]
    if fanouts:
        out += ["### Server-sent events fan-out", "",
                "| streams | events/s appended | deliveries/s | p50 ms | "
                "p99 ms | p99.9 ms | max ms | missed | duplicated | "
                "fell behind | annalsd RSS MiB: before, streams open, max | "
                "annalsd CPU s | client CPU s (stream threads) | "
                "stream threads µs/delivery | errors |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
                "---:|---:|---:|---:|"]
        for f in fanouts:
            g = lambda k: f.get(k, "")
            rss = ", ".join(g(k) for k in ("server_rss_mib_before",
                                           "server_rss_mib_open",
                                           "server_rss_mib_max"))
            out.append("| " + " | ".join([
                g("subscribers"), num(g("events_per_s")),
                num(g("deliveries_per_s")), g("p50_ms"), g("p99_ms"),
                g("p999_ms"), g("max_ms"), g("missed"), g("duplicated"),
                g("fell_behind"), rss, g("server_cpu_s"),
                f"{g('client_cpu_s')} ({g('stream_threads_cpu_s')})",
                g("stream_cpu_us_per_delivery"), g("errors")]) + " |")
        out.append("")
    return "\n".join(out)


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def paired_rounds(runs, first, second, head, intro):
    """The i-th run of system `first` of a (clients, batch) against the
    i-th run of `second`, one row per round, then the medians. head: the
    names of the six columns after the round."""
    by = {}
    for s, f in runs:
        if s in (first, second) and "batch" in f:
            by.setdefault((f.get("concurrency"), f["batch"]), {}).setdefault(
                s, []).append(f)
    keys = sorted((k for k, v in by.items() if len(v) == 2),
                  key=lambda k: (int(k[1]), int(k[0])))
    if not keys:
        return ""
    out = intro + ["| clients | events/call | round | " + " | ".join(head) +
                   " |", "|---:|---:|---|" + "---:|" * len(head)]

    def cpu(system, f):
        x = server_cpu(system, f)
        return None if x in (None, "?") else float(x)

    def times(q):
        return f"{q:.2f}×" if q is not None else ""

    for c, b in keys:
        cols = []
        for a, r in zip(by[(c, b)][first], by[(c, b)][second]):
            ea, er = float(a["events_per_s"]), float(r["events_per_s"])
            ca, cr = cpu(first, a), cpu(second, r)
            cols.append((ea, er, ea / er if er else None, ca, cr,
                         ca / cr if ca is not None and cr else None))
        for i, (ea, er, q, ca, cr, cq) in enumerate(cols, 1):
            out.append("| " + " | ".join([
                c, b, str(i), num(ea), num(er), times(q), micros(ca),
                micros(cr), times(cq)]) + " |")

        def med(j):
            v = [col[j] for col in cols if col[j] is not None]
            return median(v) if v else None
        out.append("| " + " | ".join([
            c, b, "median", num(med(0)), num(med(1)), times(med(2)),
            micros(med(3)), micros(med(4)), times(med(5))]) + " |")
    out.append("")
    return "\n".join(out)


MEDIAN_NOTE = ("The median row gives each column's median; its ratios are "
               "the medians of the rounds' ratios.")


def rounds_table(runs):
    """The target figures run again in alternating rounds against Redis."""
    return paired_rounds(
        runs, "annals-session-round", "redis-round",
        ["annals AppendSession events/s", "Redis events/s", "annals ÷ Redis",
         "annalsd µs/event", "redis-server µs/event",
         "annalsd ÷ redis-server"],
        ["### AppendSession against Redis in alternating rounds", "",
         "Each round runs both for the figure's duration, back to back "
         "(annals first in odd rounds, Redis first in even ones), each "
         "figure on an annalsd of its own on a fresh log and on the "
         "redis-server of the tables above: this machine's speed "
         "changes by up to a third within a minute, so that a single "
         "pair of runs can favour either. CPU per event as "
         "above (the server's). " + MEDIAN_NOTE, ""])


def big_rounds_table(runs):
    """The large log's append figures against the same on a fresh log, in
    alternating rounds."""
    return paired_rounds(
        runs, "annals-big-round", "annals-fresh-round",
        ["large log events/s", "fresh log events/s", "large ÷ fresh",
         "large log annalsd µs/event", "fresh log annalsd µs/event",
         "large ÷ fresh CPU"],
        ["### Appends on the large log against a fresh log in alternating "
         "rounds", "",
         "Each round runs the figure on the large log and on a new log "
         "(the large log first in odd rounds), each after appending the "
         "same way, unmeasured, for the figure's duration, and each once "
         "the large log's annalsd has been idle long enough for its idle "
         "merge, so that neither pays for the other's compactions. "
         "annalsd's CPU µs per event. " + MEDIAN_NOTE, ""])


def all_runs_table(runs):
    out = ["### Every run", "",
           "| system | scenario | clients | events/call | events | s | "
           "events/s | p50 ms | p99 ms | p99.9 ms | CPU µs/event: server / "
           "client | errors |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for system, f in runs:
        g = lambda k: f.get(k, "")
        cpu = ""
        if "cpu_us.client" in f:
            cpu = micros(f["cpu_us.client"])
            if system != "raw":
                cpu = f"{micros(server_cpu(system, f))} / {cpu}"
        out.append("| " + " | ".join([
            system,
            g("scenario") + (f" (window {f['window']})" if "window" in f
                             else ""),
            g("concurrency"), g("batch"), g("events"),
            g("seconds"), num(g("events_per_s")) if g("events_per_s") else "",
            g("p50_ms"), g("p99_ms"), g("p999_ms"), cpu,
            g("errors")]) + " |")
    out.append("")
    return "\n".join(out)


def main():
    runs = parse(sys.argv[1])
    if sys.argv[2:] == ["--http"]:
        print(http_tables(runs))
        return
    single = sorted({(f["concurrency"], f["batch"]) for s, f in runs
                     if s in SYSTEMS and f.get("batch") == "1"
                     and "concurrency" in f}, key=lambda k: int(k[0]))
    batched = sorted({(f["concurrency"], f["batch"]) for s, f in runs
                      if s in SYSTEMS and f.get("batch") not in (None, "1")
                      and "concurrency" in f},
                     key=lambda k: (int(k[1]), int(k[0])))
    print(append_table(runs, "Durable single-event appends", single))
    print(cpu_table(runs, "CPU per event: single-event appends", single))
    print(append_table(runs, "Durable batched appends", batched))
    print(cpu_table(runs, "CPU per event: batched appends", batched,
                    "µs of CPU per event, as above."))
    print(thread_table(runs))
    print(rounds_table(runs))
    print(big_appends_table(runs))
    print(big_rounds_table(runs))
    print(big_table(runs))
    print(all_runs_table(runs))


if __name__ == "__main__":
    try:
        main()
    except (ValueError, OSError) as e:
        print(f"tabulate.py: {e}", file=sys.stderr)
        sys.exit(1)
