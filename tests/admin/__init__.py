"""Admin pages: users, API keys, the audit log."""
