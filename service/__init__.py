"""The HTTP service (FastAPI on uvicorn) over the nlp pipeline and store; see docs/service.md."""
