"""The treatykb benchmark: see bench/README.md."""
