"""Emotion scorers: every customer utterance gets a sentiment, a fine and a coarse emotion."""
