"""The append-only, hash-chained audit trail (DESIGN.md §4.5, security.md §1.7).

A leaf app: it imports neither ``accounts`` nor ``requests_app``; everyone else records into it
through ``audit.trail.record``.
"""
