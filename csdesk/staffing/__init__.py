"""Staffing: how many agents a queue needs (Erlang C, issue 13)."""
