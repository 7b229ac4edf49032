"""Alembic migrations of chathost's schema; ``open_store`` runs them (see store/migrate.py)."""
