"""Small HTTP servers on 127.0.0.1 that speak each upstream provider's documented wire format."""
