"""The Python client against the real annalsd: every RPC of every annals
service through annals_client, over plaintext on loopback, with the seed
timeline loaded through an AppendSession."""

import base64
import datetime
import hashlib
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

import grpc

import annals_client
from annals_client import AnnalsError, CaughtUp
from annals_client._gen.annals.v1 import event_pb2
from annalsd import Annalsd, read_jsonl

SEED = pathlib.Path(os.environ["SEED_FILE"])
EXAMPLES = pathlib.Path(os.environ["EXAMPLES_DIR"])
DYAD_REPORT = os.environ["DYAD_REPORT_PATH"]


def example_events() -> list:
    """clients/examples/events.jsonl, as dicts."""
    return read_jsonl(EXAMPLES / "events.jsonl")


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def inclusion_root(position: int, tree_size: int, stored: bytes, path) -> bytes:
    """The root an RFC 9162 inclusion proof (section 2.1.3.2) leads to from
    the leaf of `position` (1-based)."""
    index, last = position - 1, tree_size - 1
    root = hashlib.sha256(b"\x00" + stored).digest()
    for sibling in path:
        if index % 2 == 1 or index == last:
            root = _node(sibling, root)
            while index % 2 == 0 and index != 0:
                index, last = index >> 1, last >> 1
        else:
            root = _node(root, sibling)
        index, last = index >> 1, last >> 1
    return root


class InteropTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scratch = tempfile.TemporaryDirectory(prefix="annals_python_")
        cls.server = Annalsd(cls.scratch.name)
        cls.server.start()
        cls.client = annals_client.Client(cls.server.address)
        requests = (annals_client.append_request([event]) for event in read_jsonl(SEED))
        cls.seeded = list(cls.client.append_session(requests))

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        cls.server.stop()
        cls.scratch.cleanup()

    def test_append_session_acknowledges_each_request_in_order(self):
        seed_events = len(list(read_jsonl(SEED)))
        self.assertEqual(len(self.seeded), seed_events)
        self.assertEqual([ack.positions[0] for ack in self.seeded],
                         list(range(1, seed_events + 1)))
        bad = annals_client.append_request([{"id": "bad-1", "summary": "no actors"}])
        good = annals_client.append_request(example_events()[:1], stream="session-good")
        results = list(self.client.append_session([bad, good]))
        self.assertIsInstance(results[0], AnnalsError)
        self.assertEqual(results[0].code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertTrue(results[0].field_violations)
        self.assertEqual(results[1].stream, "session-good")

    def test_append_reads_back_and_is_idempotent(self):
        events = example_events()[1:3]
        appended = self.client.append(events, stream="py-append", expect="none")
        self.assertEqual(appended.stream, "py-append")
        self.assertEqual(appended.stream_version, 2)
        again = self.client.append(events, stream="py-append")
        self.assertTrue(again.already_recorded)
        self.assertEqual(list(again.positions), list(appended.positions))

        read = list(self.client.read_stream("py-append", page_size=1))
        self.assertEqual([e.event.id for e in read], [e["id"] for e in events])
        backward = list(self.client.read_stream("py-append", backward=True))
        self.assertEqual([e.stream_version for e in backward], [2, 1])
        got = self.client.get_event(events[0]["id"])
        self.assertEqual(got.event.position, appended.positions[0])
        self.assertEqual(got.event.event.summary, events[0]["summary"])

    def test_wrong_expected_version_carries_error_info(self):
        with self.assertRaises(AnnalsError) as raised:
            self.client.append(example_events()[3:4], stream="py-expect", expect=5)
        error = raised.exception
        self.assertEqual(error.code, grpc.StatusCode.FAILED_PRECONDITION)
        self.assertEqual(error.reason, "WRONG_EXPECTED_VERSION")
        self.assertEqual(error.metadata["stream"], "py-expect")
        self.assertEqual(error.metadata["current_version"], "0")

    def test_invalid_argument_decodes_field_violations(self):
        event = dict(example_events()[4], id="py-bad-target", target=["XYZ"])
        with self.assertRaises(AnnalsError) as raised:
            self.client.append([event])
        error = raised.exception
        self.assertEqual(error.code, grpc.StatusCode.INVALID_ARGUMENT)
        fields = [field for field, _ in error.field_violations]
        self.assertIn("events[0].target[0]", fields)
        self.assertTrue(str(error).startswith("INVALID_ARGUMENT: "))

    def test_get_event_of_unknown_id_is_not_found(self):
        with self.assertRaises(AnnalsError) as raised:
            self.client.get_event("no-such-event")
        self.assertEqual(raised.exception.code, grpc.StatusCode.NOT_FOUND)

    def test_read_all_follows_pages_both_ways(self):
        seed_events = len(list(read_jsonl(SEED)))
        forward = [e.position for e in self.client.read_all(page_size=10, limit=seed_events)]
        self.assertEqual(forward, list(range(1, seed_events + 1)))
        backward = self.client.read_all(from_position=20, backward=True, page_size=7)
        backward = [e.position for e in backward]
        self.assertEqual(backward, list(range(20, 0, -1)))

    def test_relationship_now_as_of_date_and_position(self):
        now = self.client.relationship("PRK", "USA")
        self.assertEqual(now.state.dyad, "PRK-USA")
        self.assertGreater(now.state.event_count, 0)
        early = self.client.relationship("USA-PRK", as_of="2018-06")
        self.assertLess(early.state.event_count, now.state.event_count)
        by_day = self.client.relationship("USA", "PRK", as_of=datetime.date(2018, 6, 30))
        self.assertEqual(by_day.state, early.state)
        at_start = self.client.relationship("USA", "PRK", as_of_position=1)
        self.assertEqual(at_start.head, 1)
        self.assertLessEqual(at_start.state.event_count, 1)

    def test_relationships_follow_page_tokens(self):
        all_dyads = [r.dyad for r in self.client.relationships(page_size=1000)]
        paged = [r.dyad for r in self.client.relationships(page_size=2)]
        self.assertGreater(len(all_dyads), 2)
        self.assertEqual(paged, all_dyads)
        by_index = list(self.client.relationships(order="index", actor="USA", limit=2))
        self.assertTrue(all("USA" in r.dyad for r in by_index))

    def test_timeline_follows_page_tokens(self):
        whole = [e.position for e in self.client.timeline(dyad="JPN-PRK", page_size=1000)]
        paged = [e.position for e in self.client.timeline(dyad="JPN-PRK", page_size=3)]
        self.assertGreater(len(whole), 3)
        self.assertEqual(paged, whole)
        meetings = list(self.client.timeline(actor="PRK", kinds=["meeting"], from_date="2018",
                                             to_date="2019-06", descending=True))
        self.assertTrue(meetings)
        self.assertTrue(all(e.event.HasField("meeting") for e in meetings))
        years = [e.event.occurred.start.year for e in meetings]
        self.assertEqual(years, sorted(years, reverse=True))

    def test_rebuild_check_matches(self):
        result = self.client.rebuild_projections()
        self.assertTrue(result.matched, result.first_difference)
        self.assertFalse(result.repaired)

    def test_backup_writes_its_signed_tree_head(self):
        to = os.path.join(self.scratch.name, "backups")
        backup = self.client.create_backup(to)
        self.assertGreaterEqual(backup.head_position, len(self.seeded))
        self.assertEqual(backup.tree_head.tree_size, backup.head_position)
        self.assertEqual(backup.tree_head_file, os.path.join(to, "tree-heads", f"{backup.backup_id}.json"))
        with open(backup.tree_head_file) as file:
            written = json.load(file)["treeHead"]
        self.assertEqual(base64.b64decode(written["rootHash"]), backup.tree_head.root_hash)
        with self.assertRaises(AnnalsError) as refused:
            self.client.create_backup("relative/backups")
        self.assertEqual(refused.exception.field_violations[0][0], "to")

    def test_subscribe_from_start_until_caught_up(self):
        positions = []
        subscription = self.client.subscribe("start", notices=True)
        for item in subscription:
            if isinstance(item, CaughtUp):
                break
            positions.append(item.position)
        subscription.close()
        self.assertEqual(positions, list(range(1, item.position + 1)))

    def test_subscribe_filters(self):
        subscription = self.client.subscribe(1, dyad="USA-PRK", kinds=["meeting"])
        first = next(subscription)
        subscription.close()
        self.assertTrue(first.event.HasField("meeting"))
        with self.assertRaises(AnnalsError) as raised:
            next(self.client.subscribe("start", dyad="XYZ-PRK"))
        self.assertEqual(raised.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(raised.exception.field_violations[0][0], "filter.dyad")

    def test_watch_relationship_sends_the_state_first(self):
        watch = self.client.watch_relationship("JPN", "PRK")
        first = next(watch)
        watch.close()
        self.assertEqual(first.state.dyad, "JPN-PRK")
        now = self.client.relationship("JPN-PRK")
        self.assertEqual(first.state.event_count, now.state.event_count)

    def test_server_info_names_the_version_and_the_head(self):
        info = self.client.server_info()
        self.assertRegex(info.version, r"^\d+\.\d+\.\d+$")
        self.assertTrue(info.commit)
        self.assertGreaterEqual(info.head_position, len(list(read_jsonl(SEED))))
        self.assertTrue(info.writable)

    def test_audit_proofs_match_the_signed_head(self):
        head = self.client.tree_head()
        self.assertGreaterEqual(head.tree_size, len(list(read_jsonl(SEED))))
        self.assertEqual(len(head.signature), 64)
        key = self.client.public_key()
        self.assertTrue(key.public_key_pem.startswith("-----BEGIN PUBLIC KEY-----"))
        self.assertEqual(key.key_id, head.key_id)

        proof = self.client.prove_inclusion(5, head.tree_size)
        self.assertEqual(proof.root_hash, head.root_hash)
        root = inclusion_root(5, head.tree_size, proof.stored, proof.audit_path)
        self.assertEqual(root, head.root_hash)
        self.assertEqual(event_pb2.RecordedEvent.FromString(proof.stored).position, 5)

        consistency = self.client.prove_consistency(10, head.tree_size)
        self.assertEqual(consistency.new_root_hash, head.root_hash)
        self.assertEqual(consistency.old_root_hash, self.client.prove_inclusion(1, 10).root_hash)

        stored = list(self.client.read_stored(page_size=10, limit=head.tree_size))
        self.assertEqual([s.position for s in stored], list(range(1, head.tree_size + 1)))
        self.assertEqual(stored[4].stored, proof.stored)

    def test_health_is_serving(self):
        self.assertEqual(self.client.health(), "SERVING")

    def test_bad_arguments_are_refused_before_a_call(self):
        with self.assertRaises(ValueError):
            annals_client.append_request([], expect="sometimes")
        with self.assertRaises(ValueError):
            self.client.relationship("JPN", "PRK", as_of="June 2019")
        with self.assertRaises(ValueError):
            self.client.subscribe("yesterday")

    def test_example_reports_a_dyad(self):
        report = subprocess.run([sys.executable, DYAD_REPORT, "USA", "PRK", "--recent", "2",
                                 "--server", self.server.address], capture_output=True, text=True)
        self.assertEqual(report.returncode, 0, report.stderr)
        lines = report.stdout.splitlines()
        self.assertRegex(lines[0], r"^PRK-USA: \d+ events \(log position \d+\)$")
        self.assertEqual(len(lines) - lines.index("latest:") - 1, 2)
        refused = subprocess.run([sys.executable, DYAD_REPORT, "XYZ", "PRK",
                                  "--server", self.server.address], capture_output=True, text=True)
        self.assertEqual(refused.returncode, 1)
        self.assertTrue(refused.stderr.startswith("dyad_report: INVALID_ARGUMENT: "), refused.stderr)


if __name__ == "__main__":
    unittest.main()
