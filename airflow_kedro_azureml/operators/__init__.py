"""Airflow operators of this provider."""
