"""The archive: a read-only ASGI app (Starlette, Jinja2 templates) over the store."""
