"""Running as a service: sd_notify, the control socket, turn history, journald-friendly logs (issue 7).

Each module has one job and no dependency beyond the standard library (plus pydantic for the config
section), so the daemon can import them cheaply.
"""
