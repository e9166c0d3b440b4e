"""Airflow hooks of this provider."""
