"""Gate kinds: one module per kind of dependency, and the registry that names them."""
