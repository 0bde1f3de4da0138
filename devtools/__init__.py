"""Development tools: `make demo`, embedded PostgreSQL/Redis and the fleet generator.

Kept out of `webapp/` (and out of the production image): nothing here runs in production.
"""
