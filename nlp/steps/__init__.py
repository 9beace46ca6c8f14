"""Pipeline steps: each does one job on the flowing document; ``registry`` names the swappable ones."""
