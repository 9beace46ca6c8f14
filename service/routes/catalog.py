"""The taxonomies and models the service uses."""

from __future__ import annotations

from fastapi import APIRouter

from service.catalog import models_info, taxonomy_infos
from service.deps import ReadKey, RuntimeDep
from service.routes import V1_PROBLEMS, problems
from service.schemas.catalog import ModelsResponse, TaxonomyList

router = APIRouter(prefix="/v1", tags=["catalog"], responses=problems(*V1_PROBLEMS))


@router.get("/taxonomies")
async def taxonomies(runtime: RuntimeDep, _key: ReadKey) -> TaxonomyList:
    """The journey taxonomies a request may name, with their stages, issue types and service steps."""
    return TaxonomyList(taxonomies=taxonomy_infos(runtime.taxonomy_names(), runtime.config))


@router.get("/models")
async def models(runtime: RuntimeDep, _key: ReadKey) -> ModelsResponse:
    """The scoring components (names, versions, model cards), taxonomy digests and the pipeline fingerprint."""
    return models_info(runtime.pipeline)
