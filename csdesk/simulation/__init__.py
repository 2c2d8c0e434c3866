"""Discrete-event simulation of a shop's day through the product's own routing code.

``scenarios`` says what arrives and who is on shift; ``engine`` runs it on a virtual clock
(a heap of events) under a policy (``csdesk``: the product's roles, scoring and assignment;
``fifo``: oldest first, round robin); ``report`` and ``charts`` present the result.
"""
