"""Analytics over the store: contact facts, NEV, pain, rankings, trends, touchpoints, journeys, KPIs, alerts, QA,
reports. Reads the DuckDB tables only; never imports the pipeline steps (tests/test_layers.py)."""
