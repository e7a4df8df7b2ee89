"""llmzip's offline training tools: LoRA adapters for GGUF llama models, and llmzip's own base model."""
