"""Tests of airflow_kedro_azureml.testing, the Azure ML REST emulator."""
