"""Seeing without a vision-language model: frame quality, OCR in reading order, face counting, the seeing
skills and the scene facts for an LLM's prompt (see scene.Vision and grounding.Sight)."""
