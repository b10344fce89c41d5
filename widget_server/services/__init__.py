"""Use cases: load state, ask `domain` what happens, persist, publish events. No WebSockets, no HTTP."""
