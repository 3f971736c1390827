"""Every command of the ``assistant`` CLI; ``main.main`` is the entry point."""
