"""The benchmark: Openline beside its peers, on this machine, in one run. `make bench` (see bench/README.md)."""
