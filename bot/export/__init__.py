"""Writers of a stored run: JSON (the rehearsal's run.json), Markdown, and more."""
