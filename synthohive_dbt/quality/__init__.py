"""Quality: scores of synthetic against real tables, the report (JSON and HTML)."""
