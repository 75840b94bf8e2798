"""The PostgreSQL database backend of the portal: Django's, with a health check that costs no
round trip while the connection is quiet (``base.DatabaseWrapper.is_usable``)."""
