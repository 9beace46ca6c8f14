"""Prometheus metrics of one service instance (its own registry, so two apps in one process do not clash)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)


class Metrics:
    """Request counts and latencies per route, model inference time, micro-batch sizes, queue depths."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("journeylens_http_requests", "HTTP requests answered.",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("journeylens_http_request_duration_seconds", "Time to answer a request.",
                                 ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.inference = Histogram("journeylens_inference_seconds",
                                   "Time of one Pipeline.analyze call on a micro-batch, in the inference worker.",
                                   buckets=LATENCY_BUCKETS, registry=self.registry)
        self.batch_size = Histogram("journeylens_inference_batch_size", "Transcripts per micro-batch.",
                                    buckets=BATCH_BUCKETS, registry=self.registry)
        self.transcripts = Counter("journeylens_transcripts", "Transcripts analyzed or stored, by outcome.",
                                   ["outcome"], registry=self.registry)
        self.discoveries = Counter("journeylens_discover_computations", "GET /v1/discover answers computed (the "
                                   "others come from its cache).", registry=self.registry)
        self.queue_depth = Gauge("journeylens_queue_depth", "Items waiting in a queue.", ["queue"],
                                 registry=self.registry)
        self.busy_workers = Gauge("journeylens_inference_busy_workers", "Inference workers holding a batch.",
                                  registry=self.registry)

    def watch_queue(self, name: str, depth: Callable[[], int]) -> None:
        self.queue_depth.labels(name).set_function(depth)

    def observe_batch(self, size: int, seconds: float) -> None:
        self.batch_size.observe(size)
        self.inference.observe(seconds)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
