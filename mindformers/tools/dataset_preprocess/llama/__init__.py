"""LLaMA data tools: alpaca_converter.py, llama_preprocess.py and the conversation template they share."""
