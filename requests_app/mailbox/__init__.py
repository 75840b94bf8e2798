"""The public mailbox: receiving, storing and judging e-mail sent to the contact address (issue 12)."""
