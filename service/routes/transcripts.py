"""Store scored transcripts and read them back."""

from __future__ import annotations

from fastapi import APIRouter, Response

from nlp.schema.transcript import Transcript
from service.deps import Reader, ReadKey, RuntimeDep, Taxonomy, WriteKey
from service.logs import request_id_var
from service.problems import ProblemError
from service.records import stored_transcript
from service.routes import V1_PROBLEMS, problems
from service.routes.categories import configured_categories
from service.schemas.transcripts import IngestResult, StoredTranscript

router = APIRouter(prefix="/v1", tags=["transcripts"], responses=problems(*V1_PROBLEMS))


@router.post("/transcripts", status_code=201, responses={200: {"model": IngestResult,
                                                              "description": "Already stored (or replaced)"},
                                                         **problems(403, 422, 503)})
async def ingest(transcript: Transcript, response: Response, runtime: RuntimeDep, _key: WriteKey,
                 taxonomy: Taxonomy) -> IngestResult:
    """Score and store a transcript, idempotently on its id: 201 ``created``; 200 ``unchanged`` when the same
    content is already stored by the same models (not scored again), or ``updated`` when it replaced an older
    version."""
    result = await runtime.ingest(transcript, taxonomy, request_id_var.get() or "")
    response.status_code = 201 if result.status == "created" else 200
    response.headers["Location"] = result.location
    return result


@router.get("/transcripts/{transcript_id:path}", responses=problems(404))
def get_transcript(transcript_id: str, _key: ReadKey, reader: Reader, runtime: RuntimeDep) -> StoredTranscript:
    """A stored transcript with its utterances, segments, contact summary and the categories it matched (with the
    indexes of their evidence utterances); an id holding PII is found by the token it was stored under."""
    stored_id = runtime.pipeline.redactor.pseudonymize(transcript_id)
    names = {d.id: d.name for d in configured_categories(tuple(runtime.config.categories))}
    found = stored_transcript(reader, stored_id, runtime.analytics.emotion_weights, names)
    if found is None:
        raise ProblemError(404, "transcript-not-found", "no stored transcript has this id")
    return found
