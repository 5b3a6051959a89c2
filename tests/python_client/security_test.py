"""The Python client against an annalsd that serves TLS and authenticates
bearer tokens (certificates from deploy/make-certs.sh, tokens from
`annals admin token create`)."""

import json
import os
import pathlib
import subprocess
import tempfile
import unittest

import grpc

import annals_client
from annals_client import AnnalsError
from annalsd import Annalsd, create_token

EXAMPLES = pathlib.Path(os.environ["EXAMPLES_DIR"])
MAKE_CERTS = os.environ["MAKE_CERTS_PATH"]


class TlsAndTokenTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scratch = tempfile.TemporaryDirectory(prefix="annals_python_tls_")
        directory = pathlib.Path(cls.scratch.name)
        subprocess.run([MAKE_CERTS, str(directory / "tls")], check=True, capture_output=True)
        cls.ca = str(directory / "tls" / "ca.pem")
        cls.writer = create_token("ingest", "writer")
        cls.reader = create_token("dashboard", "reader")
        tokens = directory / "tokens"
        tokens.write_text(f"{cls.writer['tokensFileLine']}\n{cls.reader['tokensFileLine']}\n")
        cls.server = Annalsd(directory, [
            "--tls-cert", str(directory / "tls" / "server.pem"),
            "--tls-key", str(directory / "tls" / "server.key"),
            "--auth-tokens", str(tokens)])
        cls.server.start()
        # The certificate names localhost, 127.0.0.1 and ::1.
        cls.address = cls.server.address.replace("127.0.0.1", "localhost")
        cls.event = json.loads((EXAMPLES / "secret_talks_2001_2002.json").read_text())

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.scratch.cleanup()

    def client(self, token=None) -> annals_client.Client:
        return annals_client.Client(self.address, token=token, tls_ca=self.ca)

    def test_writer_appends_as_its_token_and_reader_reads(self):
        with self.client(self.writer["token"]) as writer:
            appended = writer.append([self.event])
        with self.client(self.reader["token"]) as reader:
            recorded = reader.get_event(self.event["id"]).event
            self.assertEqual(recorded.position, appended.positions[0])
            self.assertEqual(recorded.principal, "token:ingest")
            with self.assertRaises(AnnalsError) as raised:
                reader.append([dict(self.event, id="reader-may-not-append")])
            self.assertEqual(raised.exception.code, grpc.StatusCode.PERMISSION_DENIED)
            self.assertIn("writer", raised.exception.message)

    def test_call_without_token_is_unauthenticated(self):
        with self.client() as anonymous:
            with self.assertRaises(AnnalsError) as raised:
                anonymous.tree_head()
        self.assertEqual(raised.exception.code, grpc.StatusCode.UNAUTHENTICATED)

    def test_plaintext_client_cannot_talk_to_a_tls_server(self):
        with annals_client.Client(self.address, token=self.reader["token"]) as plain:
            with self.assertRaises(AnnalsError) as raised:
                plain.tree_head()
        self.assertEqual(raised.exception.code, grpc.StatusCode.UNAVAILABLE)

    def test_tls_files_must_go_together(self):
        with self.assertRaises(ValueError):
            annals_client.Client(self.address, tls_ca=self.ca, tls_cert=self.ca)


if __name__ == "__main__":
    unittest.main()
