"""llm-spend-monitor: what your LLM API usage costs, where the money goes, and when the budget runs out."""

__version__ = "0.1.0"
