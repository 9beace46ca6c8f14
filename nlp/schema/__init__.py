"""The shapes that flow: a transcript as read, its speakers and channel, the analysed document, a taxonomy."""
