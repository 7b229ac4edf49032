"""Platform-neutral logic. Nothing here may import discord, slack or a web framework."""
