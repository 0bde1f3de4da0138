"""API keys: creation, lookup and revocation."""
