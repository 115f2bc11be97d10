"""Use cases, one transaction each, each writing its audit event."""
