from typing import Optional

from prefect import flow


class Jobs:
    """Flows as methods."""

    @flow(name="async-method")
    async def run(self, when: Optional[str] = None, *, force: bool = False):
        """Run the job.

        Args:
            when: when to run
            force: run anyway
        """

    @flow
    def no_self(x: int = 1):
        pass
