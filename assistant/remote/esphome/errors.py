"""The satellite's user-facing error, importable without aioesphomeapi (the CLI names it in its handler)."""


class SatelliteError(Exception):
    """The API could not be served (the port is taken, say): one sentence the user can act on."""
