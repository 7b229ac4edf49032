"""Writers of a stored run: Markdown, self-contained HTML, JSON (run.json) and CSV.

``formats.render`` picks one; images (the word cloud) need Pillow and are skipped without it.
"""
