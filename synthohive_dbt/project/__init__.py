"""The dbt project: loading it and its profile with dbt's own loaders (``load``), the
selection of sources, models and seeds with dbt's selector (``selection``), and compiling
the models whose SQL the schema reader traces."""

from .load import Project, compile_models, load_project
from .selection import select_nodes

__all__ = ["Project", "compile_models", "load_project", "select_nodes"]
