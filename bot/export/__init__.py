"""Writers of a stored run: Markdown, self-contained HTML, JSON (run.json) and CSV.

``formats.render`` picks one; images (the word cloud) need Pillow and are skipped without it.
"""

# The formats, named once: ``chathost export --format``'s choices and the archive's downloads.
# Here, not in formats.py, so the command line lists them without loading the writers.
FORMATS = ("md", "html", "json", "csv", "plan")
