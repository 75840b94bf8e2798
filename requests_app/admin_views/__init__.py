"""Forms, views and helpers of the legal team's admin (requests_app/admin.py)."""
