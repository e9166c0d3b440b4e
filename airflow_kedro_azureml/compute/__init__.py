"""What runs on Azure ML compute: the step entry point, its runner and the datasets.

This folder travels whole in every job's code snapshot, beside the package's
``__init__.py``, ``errors.py`` and ``datasets.py``, so the code that compiled a
step and the code that runs it are always the same version. It imports only the
standard library, Kedro and itself (plus ``errors``): the compute environment
needs neither Airflow, nor azure.ai.ml, nor pydantic.
"""

EXECUTE_MODULE = "airflow_kedro_azureml.compute.execute"
"""The module every compiled step runs with ``python -m``."""
