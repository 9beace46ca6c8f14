"""Training jobs that write model files: stage heads (``train-stages``, ``--adapt``)."""
