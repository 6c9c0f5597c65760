"""Signals in front of the trading service: intake (API, webhooks, strategies), the validator chain,
the outcome per source (auto, confirm, notify), storage, audit and the ``signals`` topic.

Start with :class:`app.core.signals.service.SignalService`.
"""
