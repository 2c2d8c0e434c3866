"""What leaves the desk: signed POSTs of buyer-visible messages to the shop's channel and of
the desk's events to integrators' webhooks.

``policy`` (pure: when to try again, when to give up) and ``http`` (one signed attempt).
The rows are written by ``actions/deliveries.py`` (in the message's own transaction) and
driven by the ``deliver`` / ``deliver_due`` jobs (``jobs/deliveries.py``).
"""
