"""Analyze transcripts without storing them."""

from __future__ import annotations

from fastapi import APIRouter, Response

from nlp.schema.transcript import Transcript
from service.deps import ReadKey, RuntimeDep, Taxonomy
from service.problems import ProblemError
from service.routes import V1_PROBLEMS, problems
from service.schemas.analyze import AnalyzeBatchRequest, AnalyzeBatchResponse, AnalyzeResult

router = APIRouter(prefix="/v1", tags=["analyze"], responses=problems(*V1_PROBLEMS, 422, 503))


# The inference workers serialize each AnalyzeResult themselves (see ``service.inference.Outcome``), so these
# routes forward JSON bytes; the declared response models keep the OpenAPI description exact.


@router.post("/analyze", response_model=AnalyzeResult)
async def analyze(transcript: Transcript, runtime: RuntimeDep, _key: ReadKey, taxonomy: Taxonomy) -> Response:
    """One canonical transcript → stage, issue type, service step, sentiment and emotion per utterance; segments;
    the contact's NEV, emotion trend and pain signals. Nothing is stored."""
    (result,) = await runtime.analyze([transcript], taxonomy)
    return Response(result, media_type="application/json")


@router.post("/analyze/batch", response_model=AnalyzeBatchResponse)
async def analyze_batch(body: AnalyzeBatchRequest, runtime: RuntimeDep, _key: ReadKey, taxonomy: Taxonomy) -> Response:
    """Several transcripts (at most ``max_batch_transcripts``, default 100) in one request; results in order."""
    limit = runtime.settings.max_batch_transcripts
    if len(body.transcripts) > limit:
        raise ProblemError(422, "batch-too-large", f"{len(body.transcripts)} transcripts: at most {limit} per request")
    results = await runtime.analyze(body.transcripts, taxonomy)
    return Response(b'{"results":[' + b",".join(results) + b"]}", media_type="application/json")
