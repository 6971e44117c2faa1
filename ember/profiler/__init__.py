"""ember.profiler (torch.profiler): time ember's ops and labelled blocks, print tables, export traces."""
from ._events import EventList, FunctionEvent, FunctionEventAvg  # noqa: F401
from .profiler import (ProfilerAction, ProfilerActivity, profile, record_function, schedule,  # noqa: F401
                       supported_activities, tensorboard_trace_handler)

__all__ = ["profile", "record_function", "schedule", "tensorboard_trace_handler", "supported_activities",
           "ProfilerAction", "ProfilerActivity"]
