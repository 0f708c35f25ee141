"""synthohive-dbt: a dbt project in, synthetic tables out."""

__version__ = "0.1.0"
