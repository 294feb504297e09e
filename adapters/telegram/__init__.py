"""The Telegram adapter (python-telegram-bot): app.py wiring, parse.py, render.py."""
