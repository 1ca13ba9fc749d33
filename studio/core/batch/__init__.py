"""Batch generation: a matrix or file of requests persisted as a state machine in the library,
rendered by a backend (the local engine or a Ray cluster) and signed and stored locally."""
