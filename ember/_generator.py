"""ember.Generator: torch's CPU random engine, seed for seed.

torch's CPU generator is a 32-bit Mersenne Twister (mt19937) seeded with the standard Knuth
initialisation of ``seed & 0xffffffff``; 64-bit draws are two 32-bit draws, the first one high.
NumPy's ``MT19937`` bit generator runs the same recurrence, so ember loads the seeded key into it
and reads ``random_raw`` (vectorised) instead of twisting in Python.

``get_state`` returns torch's 5056-byte layout (little-endian, as torch writes it on x86/ARM):

    0     uint64  initial seed
    8     int32   left     (draws left before the next twist, 1..624)
    12    int32   seeded   (always 1)
    16    uint64  next     (index of the next state word)
    24    uint64  state[624]  (one 32-bit word per slot)
    5016  double  normal_x (0), normal_y (the cached Box-Muller sample), normal_rho (0)
    5040  int32   normal_is_valid, 4 bytes padding
    5048  float   cached float normal sample, 5052 bool valid, 3 bytes padding

so states round-trip between ember and torch (``torch.set_rng_state(torch.tensor(ember_state))``).
"""
import os

import numpy as np

from ._device import device as _device_cls, to_device

DEFAULT_SEED = 67280421310721
STATE_SIZE = 5056
_N = 624
_U64 = (1 << 64) - 1


def _knuth_key(seed):
    """The 624 state words mt19937 gets from a 32-bit seed (Knuth's multiplier 1812433253)."""
    key = [0] * _N
    x = seed & 0xFFFFFFFF
    key[0] = x
    for j in range(1, _N):
        x = (1812433253 * (x ^ (x >> 30)) + j) & 0xFFFFFFFF
        key[j] = x
    return np.array(key, dtype=np.uint32)


class Generator:
    """A random number generator with torch's CPU stream: ``manual_seed``, ``get_state``, ``set_state``."""

    def __init__(self, device="cpu"):
        dev = to_device(device) if device is not None else to_device("cpu")
        if dev.type == "meta":
            raise RuntimeError("META device type not an accelerator.")
        self._device = dev
        self._bg = np.random.MT19937(0)  # its key is replaced by the Knuth-seeded one below
        self._reseed(DEFAULT_SEED)

    # ---------------------------------------------------------------- seeding
    def _reseed(self, seed):
        self._seed = seed
        self._bg.state = {"bit_generator": "MT19937", "state": {"key": _knuth_key(seed), "pos": _N}}
        self._fresh = True  # torch reports next=0 (not 624) until the first draw after seeding
        self._next_double = None  # the second Box-Muller sample of the last scalar normal draw
        self._next_float = None

    @property
    def device(self):
        return self._device

    def manual_seed(self, seed):
        """Seed the generator (any int in [-2**63, 2**64); negatives wrap modulo 2**64); returns self."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            if hasattr(seed, "__index__") and not isinstance(seed, (float, complex)):
                seed = seed.__index__()
            else:
                raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        seed = int(seed)
        if not -(1 << 63) <= seed <= _U64:
            raise ValueError("Overflow when unpacking long long")
        self._reseed(seed & _U64)
        return self

    def seed(self):
        """Seed from the OS's entropy source and return the seed chosen."""
        s = int.from_bytes(os.urandom(8), "little")
        self._reseed(s)
        return s

    def initial_seed(self):
        """The seed this generator was last seeded with."""
        return self._seed

    def get_offset(self):
        raise RuntimeError("CPU Generator does not use offset")

    def set_offset(self, offset):
        raise RuntimeError("CPU Generator does not use offset")

    def graphsafe_get_state(self):
        raise NotImplementedError("graphsafe_get_state is not supported in this Generator")

    def graphsafe_set_state(self, state):
        raise NotImplementedError("graphsafe_set_state is not supported in this Generator")

    # ---------------------------------------------------------------- state
    def _state_bytes(self):
        st = self._bg.state["state"]
        pos = int(st["pos"])
        left = _N + 1 - pos
        nxt = 0 if (pos == _N and self._fresh) else pos
        buf = np.zeros(STATE_SIZE, np.uint8)
        buf[0:8] = np.frombuffer(np.uint64(self._seed).tobytes(), np.uint8)
        buf[8:12] = np.frombuffer(np.int32(left).tobytes(), np.uint8)
        buf[12:16] = np.frombuffer(np.int32(1).tobytes(), np.uint8)
        buf[16:24] = np.frombuffer(np.uint64(nxt).tobytes(), np.uint8)
        buf[24:5016] = np.frombuffer(np.asarray(st["key"], np.uint32).astype("<u8").tobytes(), np.uint8)
        if self._next_double is not None:
            buf[5024:5032] = np.frombuffer(np.float64(self._next_double).tobytes(), np.uint8)
            buf[5040] = 1
        if self._next_float is not None:
            buf[5048:5052] = np.frombuffer(np.float32(self._next_float).tobytes(), np.uint8)
            buf[5052] = 1
        return buf

    def get_state(self):
        """The generator state as a uint8 tensor in torch's CPUGeneratorImplState layout (5056 bytes)."""
        from ._tensor import Tensor
        return Tensor._make(self._state_bytes())

    def set_state(self, new_state):
        """Restore a state from ``get_state`` (ember's or torch's); returns self."""
        from . import _dtype as D
        from ._tensor import Tensor
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        if new_state.dtype is not D.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        n = new_state.numel()
        if n != STATE_SIZE:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {STATE_SIZE} but found the input RNG "
                               f"state size to be {n}")
        b = np.ascontiguousarray(new_state._device.backend.to_host(new_state._data)).reshape(-1).tobytes()
        left = int(np.frombuffer(b, "<i4", 1, 8)[0])
        seeded = int(np.frombuffer(b, "<i4", 1, 12)[0])
        nxt = int(np.frombuffer(b, "<u8", 1, 16)[0])
        if not 1 <= left <= _N or seeded == 0 or nxt > _N:
            raise RuntimeError("Invalid mt19937 state")
        key = np.frombuffer(b, "<u8", _N, 24).astype(np.uint32)  # torch keeps the low 32 bits of each slot
        pos = _N + 1 - left
        self._seed = int(np.frombuffer(b, "<u8", 1, 0)[0])
        self._bg.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": pos}}
        self._fresh = pos == _N and nxt == 0
        self._next_double = float(np.frombuffer(b, "<f8", 1, 5024)[0]) if \
            int(np.frombuffer(b, "<i4", 1, 5040)[0]) else None
        self._next_float = np.frombuffer(b, "<f4", 1, 5048)[0] if b[5052] else None
        return self

    def clone_state(self):
        """A new generator in the same state as this one."""
        g = Generator(self._device)
        g.set_state(self.get_state())
        return g

    def __reduce__(self):
        # the state travels as bytes (torch pickles a ByteTensor; bytes keep pickling independent of tensors)
        return (Generator, (self._device,), (self._seed, None, self._state_bytes().tobytes()))

    def __setstate__(self, state):
        st = state[2]
        if isinstance(st, (bytes, bytearray)):
            from ._tensor import Tensor
            st = Tensor._make(np.frombuffer(st, np.uint8).copy())
        self.set_state(st)

    def __repr__(self):
        return f"<ember.Generator object at {hex(id(self))}>"

    # ---------------------------------------------------------------- raw draws (ember's kernels use these)
    def _raw32(self, n):
        """``n`` consecutive 32-bit outputs of the engine, as uint64."""
        if n <= 0:
            return np.empty(0, np.uint64)
        self._fresh = False
        return self._bg.random_raw(n)

    def _raw64(self, n):
        """``n`` 64-bit draws: two 32-bit outputs each, the first one in the high half."""
        r = self._raw32(2 * n)
        return (r[0::2] << np.uint64(32)) | r[1::2]


default_generator = Generator()
_device_generators = {}  # (type, index) -> Generator for non-CPU devices, made on first use


def generator_for(dev):
    """The default generator for tensors on ``dev``."""
    if dev.type == "cpu":
        return default_generator
    key = (dev.type, dev.index or 0)
    g = _device_generators.get(key)
    if g is None:
        g = _device_generators[key] = Generator(_device_cls(dev.type, dev.index or 0))
        g.manual_seed(default_generator.initial_seed())
    return g


def manual_seed(seed):
    """Seed every default generator (torch.manual_seed); returns the CPU one."""
    seed = int(seed)
    default_generator.manual_seed(seed)
    for g in _device_generators.values():
        g.manual_seed(seed)
    return default_generator


def seed():
    """Seed the default generators from the OS's entropy source and return the seed."""
    s = default_generator.seed()
    for g in _device_generators.values():
        g.manual_seed(s)
    return s


def initial_seed():
    """The seed of the default CPU generator."""
    return default_generator.initial_seed()


def get_rng_state():
    """The default CPU generator's state as a uint8 tensor (torch's layout)."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Restore the default CPU generator's state."""
    default_generator.set_state(new_state)
