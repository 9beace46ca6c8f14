"""Journey-stage and issue-type classifiers over a taxonomy, and the stage sequence model they share."""
