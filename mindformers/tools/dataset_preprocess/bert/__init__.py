"""BERT data tools: text classification, token classification (CLUENER) and question answering (SQuAD)."""
