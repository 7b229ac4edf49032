"""The console adapter: a chat in the terminal, for rehearsals and local runs without tokens."""
