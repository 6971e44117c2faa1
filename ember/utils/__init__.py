"""ember.utils (torch.utils): ``data`` (datasets, samplers, DataLoader) and ``dlpack``."""
from . import dlpack  # noqa: F401
from . import data  # noqa: F401
from . import hdf5  # noqa: F401  (h5py is imported only when hdf5.save/load run)
