"""Deciding what was asked and answering it: router, skills, YAML commands, LLM backends, memory, camera."""
