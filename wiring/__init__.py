"""App wiring: the app factory, CLI, runner, HTTP server and the demo harness. Nothing imports this."""
