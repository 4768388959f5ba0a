"""A real S3-compatible server for the tests: moto's server mode (its HTTP server, in a thread of the test process, on
a free port of 127.0.0.1), reached by the platform's own S3 adapter through boto3 over HTTP. Nothing is mocked
inside boto3; the server keeps its objects in memory."""

from __future__ import annotations

import uuid
from typing import Any

from tests.support.servers import free_port

ACCESS_KEY, SECRET_KEY, REGION = "test-access-key", "test-secret-key", "us-east-1"


class S3Server:
    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()

    def client(self) -> Any:
        import boto3

        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint_url, region_name=REGION, aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY)

    def new_bucket(self) -> str:
        name = f"xinfang-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def settings(self, bucket: str) -> dict[str, str]:
        """The environment that points the platform's attachment store at `bucket` (docs/configuration.md)."""
        return {"ATTACHMENT_STORE": "s3", "ATTACHMENT_S3_ENDPOINT_URL": self.endpoint_url,
                "ATTACHMENT_S3_BUCKET": bucket, "ATTACHMENT_S3_REGION": REGION,
                "ATTACHMENT_S3_ACCESS_KEY_ID": ACCESS_KEY, "ATTACHMENT_S3_SECRET_ACCESS_KEY": SECRET_KEY}

    def stop(self) -> None:
        self._server.stop()
