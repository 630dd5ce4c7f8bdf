"""The v1 API's contract: JSON Schemas for its bodies, the OpenAPI document and a readable reference page."""
