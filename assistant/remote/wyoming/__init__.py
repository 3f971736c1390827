"""Wyoming both ways: clients that use a recognizer, voice or wake word on another machine, and a server
that offers ours (guards and vocabulary bias included) to Home Assistant."""
