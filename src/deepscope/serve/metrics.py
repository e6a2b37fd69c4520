"""The server's Prometheus metrics (prometheus-client), on a registry of its own so that two apps in one process
(tests, several workers' code paths) never collide: request counts by route and status, latency, the rows per
forward pass, and the requests waiting for one."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class ServerMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("deepscope_requests", "requests answered, by route and status code",
                                ["route", "status"], registry=self.registry)
        self.latency = Histogram("deepscope_request_seconds", "time from request to answer, by route", ["route"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.batch_size = Histogram("deepscope_batch_size", "rows per forward pass", buckets=BATCH_BUCKETS,
                                    registry=self.registry)
        self.queue_depth = Gauge("deepscope_queue_depth", "requests waiting for a forward pass",
                                 registry=self.registry)
        self.in_flight = Gauge("deepscope_requests_in_flight", "requests being handled", registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
