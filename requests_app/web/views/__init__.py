"""Portal views, split by area."""
