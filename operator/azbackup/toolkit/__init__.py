"""What every layer needs, written once: resource ids, RFC 3339 times, conditions, children by owner."""
