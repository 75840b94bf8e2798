"""The transactional outbox (DESIGN.md §4.4).

A leaf app: it imports neither ``accounts`` nor ``requests_app``. Consumers register a handler
per topic (``outbox.relay.register``) from their ``AppConfig.ready``.
"""
