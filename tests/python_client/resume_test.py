"""Client.subscribe across a restart of annalsd: it reconnects and goes on
from the last position it delivered, missing and repeating nothing; and
it ends when its Client is closed."""

import os
import pathlib
import tempfile
import unittest

import grpc

import annals_client
from annals_client import AnnalsError, CaughtUp
from annalsd import Annalsd, read_jsonl

EXAMPLES = pathlib.Path(os.environ["EXAMPLES_DIR"])


class ResumeTest(unittest.TestCase):
    def setUp(self):
        self.scratch = tempfile.TemporaryDirectory(prefix="annals_python_resume_")
        self.server = Annalsd(self.scratch.name)
        self.server.start()
        self.events = read_jsonl(EXAMPLES / "events.jsonl")

    def tearDown(self):
        self.server.stop()
        self.scratch.cleanup()

    def append(self, event) -> int:
        """Appends on a connection of its own; the event's position."""
        with annals_client.Client(self.server.address) as client:
            return client.append([event]).positions[0]

    @staticmethod
    def next_event(subscription):
        """The next event of `subscription`, notices skipped."""
        return next(item for item in subscription if not isinstance(item, CaughtUp))

    def test_subscription_resumes_after_a_restart(self):
        self.append(self.events[0])
        with annals_client.Client(self.server.address) as client:
            subscription = client.subscribe("start", notices=True)
            self.assertEqual(next(subscription).position, 1)
            self.assertIsInstance(next(subscription), CaughtUp)
            self.server.stop()
            self.server.start()  # the same port
            self.assertEqual(self.append(self.events[1]), 2)
            with self.assertLogs("annals_client", "WARNING") as logged:
                self.assertEqual(self.next_event(subscription).position, 2)
            self.assertIn("UNAVAILABLE", logged.output[0])
            self.append(self.events[2])
            self.assertEqual(self.next_event(subscription).position, 3)
            subscription.close()

    def test_closing_the_client_ends_its_subscription(self):
        self.append(self.events[0])
        client = annals_client.Client(self.server.address)
        subscription = client.subscribe("start")
        self.assertEqual(next(subscription).position, 1)
        client.close()
        with self.assertRaises(AnnalsError) as raised:
            next(subscription)
        self.assertEqual(raised.exception.code, grpc.StatusCode.CANCELLED)


if __name__ == "__main__":
    unittest.main()
