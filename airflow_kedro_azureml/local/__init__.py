"""The local backend: runs a compiled pipeline job's steps as processes on this machine.

``job`` is the one routine ``kedro azureml run-local`` and the operator share;
``steps`` renders the compiled spec into local steps; ``pipeline_run`` runs them
in dependency order; ``forkserver`` and ``forkserver_client`` fork steps from a
warm process so each skips Kedro's start-up.
"""
