"""Names written into SQL text: the one quoting rule for identifiers (schemas, tables, roles,
constraints) that the PostgreSQL security and integrity set-up writes into DDL."""


def quote_ident(name: str) -> str:
    """A name written as a quoted SQL identifier (PostgreSQL and SQLite): doubled inner quotes."""
    return '"' + name.replace('"', '""') + '"'
