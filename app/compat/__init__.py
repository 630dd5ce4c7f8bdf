"""Drop-in compatible APIs: thin translators from other image APIs' wire formats onto the generation service."""
