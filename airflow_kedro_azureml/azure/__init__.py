"""The Azure ML side: compiled spec -> azure.ai.ml objects, and the whole submit path.

``pipeline_job`` builds the SDK objects, ``job_yaml`` the YAML, ``code_snapshot``
the code folder a job uploads, ``submission`` registers components and creates
the job, ``job_launch`` attaches or submits exactly once. Requests go through
``hooks.azureml.AzureMLHook``; nothing here sends one itself.
"""
