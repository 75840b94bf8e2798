"""Business operations. Views, serializers, admin, commands and tasks call these, nothing else
changes the domain. Keyword-only arguments and an explicit ``actor`` (DESIGN.md §4.1)."""
