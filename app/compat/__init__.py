"""Drop-in compatible API surfaces: thin translators onto the generation service, credits and storage."""
