"""Schemathesis against the server's own OpenAPI document: generated requests to every
operation (at least 5,000 in all), none may give a server error, and every response must match
the documented status codes, content types and schemas."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.web.conftest import Server

EXAMPLES_PER_OPERATION = 900  # the six operations with inputs: 5,400 requests
# Reports render a PDF (about a second each): fewer of them.
REPORT_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _fuzz(operation: object, sent: dict[str, int]) -> None:
    label = f"{operation.method.upper()} {operation.path}"  # type: ignore[attr-defined]
    sent[label] = 0
    report = "report" in label or label.endswith("/fhir")

    @settings(
        max_examples=REPORT_EXAMPLES if report else EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())  # type: ignore[attr-defined]
    def call(case: schemathesis.Case) -> None:
        sent[label] += 1
        case.call_and_validate(checks=CHECKS)

    call()


def test_generated_requests(server: Server) -> None:
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    sent: dict[str, int] = {}
    for result in schema.get_all_operations():
        _fuzz(result.ok(), sent)
    assert len(sent) == 12, sent
    assert sum(sent.values()) >= 5000, sent
