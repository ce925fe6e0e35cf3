"""Put first on PYTHONPATH by compat/run_autograd.py: NumPy's global random state starts from the
same seed in the flowgrad run and the autograd run of an example, so examples that draw without
seeding (npr.randn at import) compute on the same numbers in both."""

import numpy

numpy.random.seed(0)
