"""The terminal adapter: the quickest way to try the bot, and the harness for feature tests."""
