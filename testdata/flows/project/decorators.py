"""Every decorator spelling and keyword."""
import prefect
import prefect as pf
from prefect import flow as f, task
from prefect import flow

FLOW_NAME = "constant-name"
VERSION = "2.0"


@flow(name="explicit-name")
def named():
    pass


@flow(name="with-desc", description="Given description", version="1.2.3")
def full_meta(x: int = 1):
    """Docstring that is overridden."""


@flow(description="Only a description")
def only_description():
    """Ignored docstring."""


@flow(version="v9")
def only_version():
    """Docstring kept."""


@prefect.flow
def prefect_attr_bare(a: int = 1):
    pass


@prefect.flow(name="prefect-attr-call")
def prefect_attr_call():
    pass


@pf.flow(name="aliased-module")
def aliased_module():
    pass


@f
def aliased_bare():
    pass


@f(name="aliased-call", retries=2)
def aliased_call():
    pass


@flow(
    name="all-keywords",
    version="7",
    flow_run_name="run-{x}",
    retries=3,
    retry_delay_seconds=10,
    description="all of them",
    timeout_seconds=60,
    validate_parameters=False,
    persist_result=True,
    result_serializer="json",
    cache_result_in_memory=False,
    log_prints=True,
)
def all_keywords(x: int = 0):
    pass


@flow(name=FLOW_NAME, version=VERSION)
def constant_name():
    pass


@flow(name="")
def empty_name():
    pass


@flow(description="")
def empty_description():
    """Fallback docstring."""


@flow(name='single-quoted', description='''triple single''')
def quoting():
    pass


@flow(name="implicit" "-concat")
def implicit_concat():
    pass


@task
def a_task():
    pass


@flow(name="uses-task")
def uses_task():
    a_task()


@flow(name="ünïcode-näme")
def unicode_name():
    pass


@flow(log_prints=True)
def under_scored_name_here():
    pass


@flow  # a comment after the decorator
def comment_after():
    pass


@flow(
    # comment inside the call
    name="commented",  # trailing
)
def commented_call():
    pass
