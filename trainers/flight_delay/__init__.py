"""The reference trainer: a small PyTorch model of flight delays (embeddings + MLP), run by train.py."""
