"""Request and response schemas of the HTTP API, one module per routes module (``service.routes``).

The request body of the analyze and ingestion routes is the canonical ``nlp.schema.transcript.Transcript`` itself,
so the API validates exactly as the file readers do; the records of an answer (utterances, segments, promises)
are derived from ``nlp.schema.document`` (``service.schemas.records``).
"""
