"""Alerts (告警), pure: the rules that turn a shop's health into alerts (``rules``), and how
they reach a DingTalk or WeCom group robot (``robots``). Stored and sent by
``actions.alerts`` and ``jobs.alerts``."""
