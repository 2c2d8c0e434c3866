"""Deferred and periodic jobs: arq in server mode, the same functions in-process embedded."""
