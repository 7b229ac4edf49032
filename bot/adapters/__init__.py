"""One package per platform: each translates platform events into core calls and back."""
