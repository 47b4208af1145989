"""Runnable experiments that show, with numbers, what an LSTM does that a vanilla RNN cannot."""
