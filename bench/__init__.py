"""The load benchmark of `make bench` (see README "Benchmarks"); not part of the application."""
