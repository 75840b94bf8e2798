"""The authority web portal: Django templates, plain forms, progressive enhancement with htmx.

Views here authenticate, scope (``requests_app.access``), call a service and render; they hold
no business rules (DESIGN.md §4.1). Every page works without JavaScript.
"""
