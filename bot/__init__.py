"""campusbot's shared core: commands, services, storage and views, with no chat platform inside."""

__version__ = "0.1.0"
