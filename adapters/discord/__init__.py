"""The Discord adapter: slash commands and buttons through discord.py, built from the registry."""
