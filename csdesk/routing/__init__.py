"""Routing: triage, scoring, eligibility, assignment and queue indexes."""
