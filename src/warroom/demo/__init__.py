"""The embedded world for `warroom demo`: moto in a child process, seeded, simulated."""
