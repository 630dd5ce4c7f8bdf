"""Pure image functions: decode and validate, enhance, geometry, overlays, encode (bytes and PIL images only)."""
