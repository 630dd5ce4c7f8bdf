"""The nanobananaapi.ai API served by Stagecraft: switch by base URL and key."""
