"""The ``ember.fft`` namespace (torch.fft): discrete Fourier transforms and helpers.

Implemented in ``ember.ops.spectral``; this module only names them like torch.
"""
from .ops.spectral import FFT as _FFT

fft = _FFT["fft"]
ifft = _FFT["ifft"]
rfft = _FFT["rfft"]
irfft = _FFT["irfft"]
hfft = _FFT["hfft"]
ihfft = _FFT["ihfft"]
fft2 = _FFT["fft2"]
ifft2 = _FFT["ifft2"]
rfft2 = _FFT["rfft2"]
irfft2 = _FFT["irfft2"]
hfft2 = _FFT["hfft2"]
ihfft2 = _FFT["ihfft2"]
fftn = _FFT["fftn"]
ifftn = _FFT["ifftn"]
rfftn = _FFT["rfftn"]
irfftn = _FFT["irfftn"]
hfftn = _FFT["hfftn"]
ihfftn = _FFT["ihfftn"]
fftfreq = _FFT["fftfreq"]
rfftfreq = _FFT["rfftfreq"]
fftshift = _FFT["fftshift"]
ifftshift = _FFT["ifftshift"]

__all__ = sorted(_FFT)
