"""Airflow sensors of this provider."""
