"""What the service can do: the taxonomies a request may name and the models that score."""

from __future__ import annotations

from typing import Any

from nlp.config import PipelineConfig
from nlp.pipeline import Pipeline
from nlp.schema.taxonomy import load_taxonomy
from service.schemas.catalog import CategoryInfo, ModelInfo, ModelsResponse, StageInfo, TaxonomyInfo


def taxonomy_infos(names: list[str], config: PipelineConfig) -> list[TaxonomyInfo]:
    infos = []
    for name in names:
        taxonomy = load_taxonomy(name)
        infos.append(TaxonomyInfo(
            name=name, title=taxonomy.name, language=taxonomy.language, description=taxonomy.description,
            default=name == config.default_taxonomy,
            business_lines=sorted(line for line, target in config.taxonomies.items() if target == name),
            stages=[StageInfo(id=s.id, name=s.name, name_en=s.name_en, description=s.description, phase=s.phase,
                              parent=s.parent) for s in taxonomy.stages],
            issue_types=[CategoryInfo(id=c.id, name=c.name, name_en=c.name_en, description=c.description)
                         for c in taxonomy.issue_types],
            service_steps=[CategoryInfo(id=c.id, name=c.name, name_en=c.name_en, description=c.description)
                           for c in taxonomy.service_steps],
        ))
    return infos


def _card(component: Any) -> dict[str, Any] | None:
    """A trained component's model card (its evaluation metrics), when it has one."""
    card = getattr(component, "card", None)
    return dict(card) if card else None


def models_info(pipeline: Pipeline) -> ModelsResponse:
    versions = pipeline.model_versions
    scorer = pipeline.emotion_scorer
    classifier = pipeline.classifier(pipeline.config.default_taxonomy)
    return ModelsResponse(
        journeylens=versions["journeylens"], fingerprint=pipeline.fingerprint,
        models=[
            ModelInfo(role="emotion_scorer", name=scorer.name, version=scorer.version, card=_card(scorer)),
            ModelInfo(role="journey_classifier", name=classifier.name, version=classifier.version,
                      card=_card(classifier)),
        ],
        taxonomies=versions["taxonomies"],
        configuration=pipeline.config.model_dump(mode="json"),
    )
