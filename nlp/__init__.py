"""journeylens: customer-journey emotion analytics for contact-centre transcripts.

The data flow, one module per step: ``readers`` → ``normalize`` → ``redact`` → ``segment`` →
``scoring`` (stage/issue classifier, emotion scorer) → ``store``; ``pipeline`` chains the steps for one
transcript and ``bulk`` runs it over archives.
"""

__version__ = "0.2.0"
