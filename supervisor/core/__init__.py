"""The pure parts: what is checked and its state, the readiness phases, the start-up graph, backoff,
reason classes and the text rules they share. No I/O, no clock, no event loop."""
