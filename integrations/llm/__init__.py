"""Clients for the LLM providers the planner uses: Anthropic first, OpenAI second (see agents/llm_planner.py)."""
