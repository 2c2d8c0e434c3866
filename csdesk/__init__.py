"""csdesk: a customer-service desk for Tmall-style online shops."""

__version__ = "0.1.0"
