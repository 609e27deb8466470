"""Who may do and see what, and proof of what was done: identity, users and roles, the blind rule, the hash-chained audit log and its state, retention purge and back-up."""
