"""RQ job functions (they take ids) and the worker entry points."""
