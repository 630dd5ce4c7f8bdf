"""Leaf catalogues: what Stagecraft offers and what it costs. They import nothing of ours."""
