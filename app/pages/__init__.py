"""HTML screens that compose several features: one module per blueprint, named after the screen."""
