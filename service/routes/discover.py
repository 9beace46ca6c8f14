"""``GET /v1/discover``: what are customers contacting us about? Topics of the stored customer utterances.

The method is ``journeylens discover --db`` (``nlp.discover``): a sample of the selected contacts' distinct
customer utterances, e5 vectors, agglomerative clusters named by c-TF-IDF, 5 redacted examples each, each topic's
NEV (stored emotions) and its contacts' mean pain (the contact facts every analytics route shares), optionally
compared with a taxonomy (emerging topics), and the draft taxonomy YAML. Embedding thousands of utterances takes
seconds, so the computation runs in the ``StoreCache``'s own thread, off the event loop, and its answer is kept
under its parameters and the store's version: a second call is instant, an ingest changes the version, and
identical calls made while it computes share that one computation. A call waits for it at most
``discover_wait_s`` (default 20 s, under the request timeout) and otherwise answers 202 with ``Retry-After``: the
computation goes on, and the same request made again gets its answer.
"""

from __future__ import annotations

from concurrent.futures import TimeoutError as FutureTimeout
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from nlp.discover import discover_store
from nlp.schema.taxonomy import load_taxonomy
from nlp.steps.stages.embedding import shared_vectors
from service.deps import Reader, ReadKey, RuntimeDep
from service.facts_cache import StoreCache
from service.problems import ProblemError
from service.routes import V1_PROBLEMS, problems
from service.routes.analytics import ContactFilters, Facts, _facts, _filters
from service.schemas.analytics import AppliedFilters
from service.schemas.discover import DiscoverPending, DiscoverResponse

router = APIRouter(prefix="/v1", tags=["analytics"], responses={
    **problems(*V1_PROBLEMS, 422),
    202: {"model": DiscoverPending, "description": "Still computing: ask again after Retry-After seconds."}})
YAML = "application/yaml"
RETRY_AFTER_S = 2


class Pending(Exception):
    """The computation did not finish within ``discover_wait_s``."""



def discover_cache(request: Request) -> StoreCache:
    return request.app.state.discover_cache


Discoveries = Annotated[StoreCache, Depends(discover_cache)]
MaxTopics = Annotated[int, Query(ge=2, le=50, description="At most this many topics (the number is chosen by "
                                                          "silhouette between half of it and it).")]
Language = Annotated[str | None, Query(pattern="^(zh|en)$", description="Only contacts in this language; also "
                                                                       "how terms are cut (default: detected).")]
Sample = Annotated[int, Query(ge=20, le=20_000, description="Distinct customer utterances to sample (embedding "
                                                            "them is most of a first call's time).")]
Emerging = Annotated[bool, Query(description="Compare the topics with the taxonomy filter's taxonomy, else the "
                                             "configured default: coverage per topic and the emerging topics.")]


def _discovery(reader, runtime, applied: AppliedFilters, facts_cache, cache: StoreCache, max_topics: int,
               language: str | None, sample: int, emerging: bool) -> DiscoverResponse:
    """The answer for these parameters: from the cache, or computed once (``Pending`` while it computes)."""
    if applied.by is not None:
        raise ProblemError(422, "invalid-filter", "discover has no breakdown: leave out by")
    compared = runtime.check_taxonomy(applied.taxonomy or runtime.config.default_taxonomy) if emerging else None
    key = (applied.model_dump_json(), max_topics, language, sample, compared, runtime.analytics.model_dump_json())

    def compute() -> DiscoverResponse:
        runtime.metrics.discoveries.inc()
        con = runtime.db.cursor()  # its own: the request's cursor closes when the request ends
        try:
            facts = _facts(facts_cache, con, runtime, applied)
            result = discover_store(con, runtime.analytics, max_utterances=sample, filters=_filters(applied),
                                    language=language, max_topics=max_topics,
                                    pain_of=dict(zip(facts["transcript_id"], facts["pain"], strict=True)),
                                    taxonomy=load_taxonomy(compared) if compared else None,
                                    vectors=shared_vectors(runtime.config.sentence_encoder))
        finally:
            con.close()
        return DiscoverResponse(filters=applied, max_topics=max_topics, sample=sample, compared_with=compared,
                                taxonomy_yaml=result.to_yaml("discovered"), **result.report())

    future = cache.submit(reader, key, compute)
    try:
        return future.result(timeout=runtime.settings.discover_wait_s)
    except FutureTimeout as pending:
        raise Pending from pending
    except ValueError as error:  # fewer than 4 utterances in the selection
        raise ProblemError(422, "too-few-utterances", str(error)) from error


def _pending() -> JSONResponse:
    return JSONResponse(DiscoverPending(retry_after_s=RETRY_AFTER_S).model_dump(), status_code=202,
                        headers={"Retry-After": str(RETRY_AFTER_S)})


@router.get("/discover", response_model=DiscoverResponse)
def discover_topics(_key: ReadKey, reader: Reader, runtime: RuntimeDep, applied: ContactFilters, facts_cache: Facts,
                    cache: Discoveries, max_topics: MaxTopics = 12, language: Language = None, sample: Sample = 2000,
                    emerging: Emerging = False) -> Any:
    """Topics of a sample of the selected contacts' customer utterances: name, terms, size and share, NEV, the
    contacts' pain, 5 PII-redacted examples, coverage by the taxonomy and emerging topics (emerging=true), and the
    draft taxonomy YAML. The first call for a store version and these parameters takes seconds (202 with
    Retry-After when it takes longer than the service waits: ask again); later ones are served from memory until
    something is stored."""
    try:
        return _discovery(reader, runtime, applied, facts_cache, cache, max_topics, language, sample, emerging)
    except Pending:
        return _pending()


@router.get("/discover/taxonomy.yaml", response_class=Response,
            responses={200: {"content": {YAML: {}}, "description": "The draft taxonomy YAML."}})
def discover_taxonomy(_key: ReadKey, reader: Reader, runtime: RuntimeDep, applied: ContactFilters,
                      facts_cache: Facts, cache: Discoveries, max_topics: MaxTopics = 12, language: Language = None,
                      sample: Sample = 2000, emerging: Emerging = False) -> Response:
    """The draft taxonomy of ``GET /v1/discover`` with the same parameters, as a file to edit and use with
    ``--taxonomy`` (the same computation, shared through the cache)."""
    try:
        found = _discovery(reader, runtime, applied, facts_cache, cache, max_topics, language, sample, emerging)
    except Pending:
        return _pending()
    return Response(found.taxonomy_yaml, media_type=f"{YAML}; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="discovered.yaml"'})
