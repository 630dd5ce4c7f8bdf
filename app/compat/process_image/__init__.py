"""The process-image surface (AI Studio): prepared styles on listing photos, processed on request."""
