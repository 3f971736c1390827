"""Exact answers: questions a voice assistant is asked most, answered by code rather than a model."""
