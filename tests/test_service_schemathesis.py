"""Property-based tests over the service's own OpenAPI spec (schemathesis): no input makes the server fail (5xx),
and every answer has a documented status, media type and shape."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.keys import KeyStore
from tests.support.server import ServerProcess

EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 15}  # per operation; keeps the run under a minute
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@dataclass
class Live:
    url: str
    key: str


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("service_schemathesis")
    _, key = KeyStore(folder / "cx.keys.json").create("fuzzer")
    settings = {"rate_limit_per_second": 0, "max_body_bytes": 262_144}
    with ServerProcess(folder / "cx.duckdb", folder / "server.log", settings) as server:
        yield Live(server.url, key)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_no_input_makes_the_server_fail(live: Live, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    failures = []
    for operation in operations:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES[mode], deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def call(case) -> None:
            case.call_and_validate(headers={"X-API-Key": live.key}, timeout=30, checks=CHECKS)

        try:
            call()
        except Unsatisfiable:  # nothing to make invalid: the operation takes no input
            assert mode is GenerationMode.NEGATIVE and not operation.body and not operation.path_parameters
        except Exception as error:  # noqa: BLE001 - collected so that every operation is exercised
            failures.append(f"{operation.label}: {error}")
    assert not failures, "\n\n".join(failures)
