"""HTTP service (FastAPI) over the nlp pipeline; the API itself lands with the service issue."""
