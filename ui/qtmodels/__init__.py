"""Qt item models over the core's plain query results (lists of tuples, pages of cases)."""
