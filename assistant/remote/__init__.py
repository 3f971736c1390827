"""Home Assistant's edges: esphome/ (this daemon as a voice satellite)."""
