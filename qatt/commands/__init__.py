"""CLI commands, one module per topic. Each module defines `register(add_command)`."""
