"""Drop-in compatible APIs: thin translators from other image APIs onto the generation service."""
