"""Entry points that read archives and run the pipeline: the local store, Spark, JSONL and text scoring."""
