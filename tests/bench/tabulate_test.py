#!/usr/bin/env python3
"""clients/bench/tabulate.py: the tables deploy/bench.sh writes from the
drivers' key=value lines."""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TABULATE = os.path.join(HERE, "..", "..", "clients", "bench", "tabulate.py")
sys.path.insert(0, os.path.dirname(TABULATE))
import tabulate  # noqa: E402

RESULTS = """\
annals scenario=append concurrency=8 batch=1 events=3000 seconds=1.00 events_per_s=3000 calls=3000 p50_ms=2.1 p99_ms=5.0 p999_ms=9.0 cpu_us.client=20.5 cpu_us.annalsd=61.25 errors=0
annals-session scenario=append-session concurrency=8 batch=1 window=32 replicas=1 events=9000 seconds=1.00 events_per_s=9000 calls=9000 p50_ms=20 p99_ms=40 p999_ms=50 cpu_us.client=5.0 cpu_us.annalsd=30.0 cpu_threads.annalsd=annals-writer:15.0,nexting_thread:6.0,annals-syncer:4.0,default-executo:2.0,rocksdb_high:1.5,rocksdb_low:0.5,annals-keeper:0.5,annalsd:0.5 errors=0
raw scenario=raw_append concurrency=8 batch=1 events=6000 seconds=1.00 events_per_s=6000 calls=6000 p50_ms=1 p99_ms=2 p999_ms=3 cpu_us.client=44.4 errors=0
postgres scenario=postgres_append concurrency=8 batch=1 events=1500 seconds=1.00 events_per_s=1500 calls=1500 p50_ms=5 p99_ms=9 p999_ms=12 cpu_us.client=15.0 cpu_us.postgres=250.0 errors=0
redis scenario=redis_append concurrency=8 batch=1 events=2000 seconds=1.00 events_per_s=2000 calls=2000 p50_ms=4 p99_ms=8 p999_ms=10 cpu_us.client=10.0 cpu_us.redis=? errors=0
annals-session scenario=append-session concurrency=2 batch=100 window=4 replicas=1 events=50000 seconds=1.00 events_per_s=50000 calls=500 p50_ms=15 p99_ms=30 p999_ms=35 cpu_us.client=1.5 cpu_us.annalsd=8.0 errors=0
annals-big-session scenario=append-session concurrency=8 batch=1 window=32 replicas=1 events=4500 seconds=1.00 events_per_s=4500 calls=4500 p50_ms=30 p99_ms=80 p999_ms=90 cpu_us.client=5.5 cpu_us.annalsd=45.0 errors=0
annals-big-steady scenario=append-session concurrency=8 batch=1 window=32 replicas=1 warmup_s=10 events=7200 seconds=1.00 events_per_s=7200 calls=7200 p50_ms=25 p99_ms=60 p999_ms=70 cpu_us.client=5.2 cpu_us.annalsd=36.0 errors=0
annals-big scenario=fanout subscribers=1 rate=1000 events=1000 seconds=1.00 events_per_s=1000 p50_ms=2 p99_ms=5 p999_ms=6 cpu_us.client=486 errors=0
annals-big scenario=get-relationship as_of=none dyads=341 warmup_s=0 concurrency=1 queries=100 seconds=1.00 queries_per_s=100 results_per_query=1.0 p50_ms=1 p99_ms=2 p999_ms=3 client_cpu_us_per_query=50 errors=0
"""


def runs_of(lines):
    """The (system, fields) of each result line, as tabulate.parse gives."""
    return [(line.split(" ", 1)[0],
             dict(kv.split("=", 1) for kv in line.split()[1:]))
            for line in lines]


def row_of(table, start):
    """The table row that starts with `start`."""
    rows = [line for line in table.splitlines() if line.startswith(start)]
    if len(rows) != 1:
        raise AssertionError(f"{len(rows)} rows start with {start!r} in\n"
                             f"{table}")
    return rows[0]


class TabulateTest(unittest.TestCase):
    def setUp(self):
        f = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)
        f.write(RESULTS)
        f.close()
        self.path = f.name
        self.runs = tabulate.parse(self.path)

    def tearDown(self):
        os.unlink(self.path)

    def test_cpu_table_gives_server_and_client_per_system(self):
        table = tabulate.cpu_table(self.runs, "CPU", [("8", "1")])
        self.assertIn("| clients | events/call | annals: server / client | "
                      "annals AppendSession: server / client | "
                      "raw RocksDB, in-process | PostgreSQL: server / client "
                      "| Redis: server / client |", table)
        self.assertEqual(
            row_of(table, "| 8 | 1 |"),
            "| 8 | 1 | 61.2 / 20.5 | 30.0 / 5.0 | 44.4 | 250 / 15.0 "
            "| ? / 10.0 |")

    def test_cpu_table_marks_a_system_missing_from_a_row(self):
        table = tabulate.cpu_table(self.runs, "CPU", [("2", "100")])
        self.assertEqual(row_of(table, "| 2 | 100 |"),
                         "| 2 | 100 | – | 8.0 / 1.5 | – | – | – |")

    def test_the_throughput_table_keeps_its_ratios(self):
        table = tabulate.append_table(self.runs, "Appends", [("8", "1")])
        self.assertIn("annals ÷ PostgreSQL", table)
        self.assertIn("| 2.00× |", table)  # annals 3,000 ÷ PostgreSQL 1,500

    def test_appends_on_the_large_log_against_the_fresh_log(self):
        table = tabulate.big_appends_table(self.runs)
        self.assertIn("### Appends on the large log", table)
        self.assertEqual(row_of(table, "| 8 | 1 | after idle |"),
                         "| 8 | 1 | after idle | 9,000 | 4,500 | 0.50× | 40 "
                         "| 80 | 30.0 | 45.0 |")
        self.assertEqual(row_of(table, "| 8 | 1 | after 10 s"),
                         "| 8 | 1 | after 10 s warm-up | 9,000 | 7,200 | "
                         "0.80× | 40 | 60 | 30.0 | 36.0 |")
        self.assertNotIn("| 2 | 100 |", table)  # not run on the large log

    def test_large_log_figures_name_the_dyads_they_draw_from(self):
        self.assertIn("get-relationship as_of=none dyads=341",
                      tabulate.big_table(self.runs))

    def test_catch_ups_are_listed_with_their_median(self):
        runs = runs_of([
            f"annals-big scenario=catchup events=1000 head=1000 seconds=0.01 "
            f"events_per_s={rate} messages=10 mb_per_s=1 errors={errors}"
            for rate, errors in [(300000, 0), (500000, 0), (400000, 1)]]
            + RESULTS.splitlines()[8:9])  # a fan-out after them
        table = tabulate.big_table(runs)
        self.assertEqual(table.count("| catchup |"), 3)
        median = ("| catchup, median of 3 |  | 400,000 events/s |  |  |  "
                  "| 1 |")
        self.assertEqual(row_of(table, "| catchup, median of 3 |"), median)
        lines = table.splitlines()
        self.assertTrue(lines[lines.index(median) + 1].startswith(
            "| fanout"))  # right after the catch-ups
        one = tabulate.big_table(runs[:1])
        self.assertNotIn("median", one)

    def test_every_run_has_its_cpu(self):
        table = tabulate.all_runs_table(self.runs)
        self.assertIn("| 61.2 / 20.5 | 0 |",
                      row_of(table, "| annals | append |"))
        self.assertIn("| 44.4 | 0 |", row_of(table, "| raw |"))
        self.assertIn("| 45.0 / 5.5 | 0 |",
                      row_of(table, "| annals-big-session |"))
        # No server process given: the client's alone.
        self.assertIn("| – / 486 | 0 |",
                      row_of(table, "| annals-big | fanout"))

    def test_a_line_that_does_not_parse_fails_the_run(self):
        with open(self.path, "a") as f:
            f.write("annals scenario=append cpu_us.client\n")
        done = subprocess.run([sys.executable, TABULATE, self.path],
                              capture_output=True, text=True)
        self.assertEqual(done.returncode, 1)
        self.assertIn("not key=value", done.stderr)

    def test_thread_table_sums_annalsds_threads_by_part(self):
        table = tabulate.thread_table(self.runs)
        self.assertEqual(
            row_of(table, "| annals-session | 8 | 1 |"),
            "| annals-session | 8 | 1 | 15.0 | 4.0 | 8.0 | 2.0 | 1.0 | 30.0 |")
        # Runs without the threads' figures have no row.
        self.assertNotIn("| annals | 8 | 1 |", table)

    def test_rounds_pair_annals_with_redis_in_order_with_medians(self):
        lines = [
            "annals-session-round scenario=append-session concurrency=64 "
            "batch=1 window=8 events_per_s=18000 cpu_us.client=22.0 "
            "cpu_us.annalsd=70.0 errors=0",
            "redis-round scenario=redis_append concurrency=64 batch=1 "
            "events_per_s=20000 cpu_us.client=23.0 cpu_us.redis=45.0 "
            "errors=0",
            "redis-round scenario=redis_append concurrency=64 batch=1 "
            "events_per_s=25000 cpu_us.client=20.0 cpu_us.redis=40.0 "
            "errors=0",
            "annals-session-round scenario=append-session concurrency=64 "
            "batch=1 window=8 events_per_s=24000 cpu_us.client=17.0 "
            "cpu_us.annalsd=55.0 errors=0",
            "annals-session-round scenario=append-session concurrency=64 "
            "batch=1 window=8 events_per_s=15000 cpu_us.client=27.0 "
            "cpu_us.annalsd=80.0 errors=0",
            "redis-round scenario=redis_append concurrency=64 batch=1 "
            "events_per_s=16000 cpu_us.client=27.0 cpu_us.redis=50.0 "
            "errors=0",
        ]
        runs = runs_of(lines)
        table = tabulate.rounds_table(runs)
        self.assertEqual(
            row_of(table, "| 64 | 1 | 1 |"),
            "| 64 | 1 | 1 | 18,000 | 20,000 | 0.90× | 70.0 | 45.0 | 1.56× |")
        self.assertEqual(
            row_of(table, "| 64 | 1 | 2 |"),
            "| 64 | 1 | 2 | 24,000 | 25,000 | 0.96× | 55.0 | 40.0 | 1.38× |")
        # The medians of each column: the ratios' are of the rounds' ratios.
        self.assertEqual(
            row_of(table, "| 64 | 1 | median |"),
            "| 64 | 1 | median | 18,000 | 20,000 | 0.94× | 70.0 | 45.0 "
            "| 1.56× |")
        # Without rounds, no table.
        self.assertEqual(tabulate.rounds_table(self.runs), "")

    def test_big_rounds_pair_the_large_log_with_a_fresh_one(self):
        lines = [
            "annals-big-round scenario=append-session concurrency=8 "
            "batch=100 window=4 warmup_s=3 events_per_s=45000 "
            "cpu_us.client=3.0 cpu_us.annalsd=30.0 errors=0",
            "annals-fresh-round scenario=append-session concurrency=8 "
            "batch=100 window=4 warmup_s=3 events_per_s=50000 "
            "cpu_us.client=3.0 cpu_us.annalsd=24.0 errors=0",
            "annals-fresh-round scenario=append-session concurrency=8 "
            "batch=100 window=4 warmup_s=3 events_per_s=60000 "
            "cpu_us.client=3.0 cpu_us.annalsd=20.0 errors=0",
            "annals-big-round scenario=append-session concurrency=8 "
            "batch=100 window=4 warmup_s=3 events_per_s=57600 "
            "cpu_us.client=3.0 cpu_us.annalsd=21.0 errors=0",
        ]
        runs = runs_of(lines)
        table = tabulate.big_rounds_table(runs)
        self.assertIn("### Appends on the large log against a fresh log "
                      "in alternating rounds", table)
        self.assertEqual(
            row_of(table, "| 8 | 100 | 1 |"),
            "| 8 | 100 | 1 | 45,000 | 50,000 | 0.90× | 30.0 | 24.0 | 1.25× |")
        self.assertEqual(
            row_of(table, "| 8 | 100 | median |"),
            "| 8 | 100 | median | 51,300 | 55,000 | 0.93× | 25.5 | 22.0 "
            "| 1.15× |")
        # The Redis rounds' table does not take these, nor this one those.
        self.assertEqual(tabulate.rounds_table(runs), "")
        self.assertEqual(tabulate.big_rounds_table(self.runs), "")
        # Neither is a thread table's row.
        self.assertNotIn("round", tabulate.thread_table(runs))

    def test_without_cpu_figures_there_is_no_cpu_table(self):
        runs = [(s, {k: v for k, v in f.items() if not k.startswith("cpu_")})
                for s, f in self.runs]
        self.assertEqual(tabulate.cpu_table(runs, "CPU", [("8", "1")]), "")


if __name__ == "__main__":
    unittest.main()
