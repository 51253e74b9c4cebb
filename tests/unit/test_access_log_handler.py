"""The access log's batching handler (service/web/observability.py): every line arrives, in
order, whether logged inside an event loop or not."""

from __future__ import annotations

import asyncio
import io
import logging

from service.web.observability import BatchedLineHandler


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("service.access", logging.INFO, __file__, 0, message, (), None)


def test_lines_logged_in_one_loop_iteration_arrive_together_and_in_order() -> None:
    handler = BatchedLineHandler()
    handler.stream = io.StringIO()

    async def burst() -> None:
        for n in range(5):
            handler.handle(_record(f"line {n}"))
        await asyncio.sleep(0)  # the hand-off runs on the next iteration

    asyncio.run(burst())
    asyncio.run(burst())  # a second loop: the first one's hand-off is not waited for
    handler.handle(_record("outside a loop"))
    handler.close()
    lines = handler.stream.getvalue().splitlines()
    assert lines == [f"line {n}" for n in range(5)] * 2 + ["outside a loop"]
