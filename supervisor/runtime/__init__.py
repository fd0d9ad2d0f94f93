"""The running supervisor: the gate engine, the start-up sequence, the app's lifecycle and stopping."""
