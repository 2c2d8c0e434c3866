"""A learned triage classifier beside the phrase rules (see docs/triage.md)."""
