"""Airflow triggers of this provider."""
