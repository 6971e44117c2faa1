"""DLPack exchange (torch.utils.dlpack): ``to_dlpack(tensor)`` makes a capsule, ``from_dlpack(obj)`` reads one."""
from .._interop import DLDeviceType, from_dlpack, to_dlpack

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]
