"""The application: the one place that builds stages from a config, deeper config checks, the daemon lifecycle."""
