"""Running as a service: sd_notify, the control socket, turn history, reload requests, journald-friendly logs."""
