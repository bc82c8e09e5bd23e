"""OpenAI chat completions and models, as the official SDKs call them."""
