"""Contender scripts of the time-to-accuracy case (benchmarks/time_to_accuracy.py).

Each runs as ``python SCRIPT DATA.npz THREADS MAX_EPOCHS`` in a fresh process, imports only
NumPy and its own framework, and prints ``epoch N test_accuracy A`` after every epoch.
"""
