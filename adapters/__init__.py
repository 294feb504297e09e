"""Chat adapters: each translates its platform's updates into core invocations and core replies
into native messages. Every adapter has the same three modules: app.py, parse.py, render.py."""
