#!/usr/bin/env python3
"""Prints the NumPy reference values kept as literals in dft_test.cc, stft_test.cc,
window_function_test.cc and mel_weight_matrix_test.cc. Run with NumPy (1.24 made the
kept values) and paste; the C++ tests rebuild the same inputs with their Ramp()."""
import numpy as np


def ramp(n, offset=0):
    # Exact in float32 and reproducible in C++: ((k * 37) % 23 - 11) / 8.
    k = np.arange(offset, offset + n)
    return (((k * 37) % 23) - 11) / 8.0


def emit(name, values):
    flat = np.asarray(values, dtype=np.float64).ravel()
    print(f"// {name}: {flat.size} values")
    print("const std::vector<double> " + name + " = {" +
          ", ".join(f"{v:.9g}" for v in flat) + "};")


def interleave(c):
    return np.stack((c.real, c.imag), axis=-1)


# --- DFT --------------------------------------------------------------------------------
emit("kFft16", interleave(np.fft.fft(ramp(16))))                 # radix-2
emit("kRfft12", interleave(np.fft.rfft(ramp(12))))               # direct sum, onesided
emit("kFft67", interleave(np.fft.fft(ramp(67) + 1j * ramp(67, 67))))  # Bluestein, complex
emit("kIfft10Cut8", interleave(np.fft.ifft((ramp(10) + 1j * ramp(10, 10))[:8])))
emit("kFft5Pad8", interleave(np.fft.fft(ramp(5), n=8)))
x = ramp(24).reshape(2, 3, 4)
emit("kFftAxis2", interleave(np.fft.fft(x, axis=2)))             # input [2,3,4,1], axis 2
emit("kFftAxis1", interleave(np.fft.fft(x, axis=1)))             # axis -3 at opset 20

# --- STFT -------------------------------------------------------------------------------
hann8 = np.hanning(9)[:-1].astype(np.float32)                    # periodic Hann of 8
signal = ramp(20)
frames = [np.fft.rfft(signal[s:s + 8] * hann8.astype(np.float64)) for s in range(0, 13, 4)]
emit("kStftHann", interleave(np.array(frames)))                   # [1, 4, 5, 2]
cs = (ramp(20) + 1j * ramp(20, 20)).reshape(2, 10)
frames = [[np.fft.fft(cs[b, s:s + 4]) for s in range(0, 7, 3)] for b in range(2)]
emit("kStftComplex", interleave(np.array(frames)))                # [2, 3, 4, 2]

# --- windows ----------------------------------------------------------------------------
emit("kHannPeriodic8", np.hanning(9)[:-1])
emit("kHannSymmetric5", np.hanning(5))
n = np.arange(6)
emit("kHammingPeriodic6", 25 / 46 - 21 / 46 * np.cos(2 * np.pi * n / 6))
emit("kBlackmanSymmetric7", np.blackman(7))


# --- MelWeightMatrix: the spec's reference formula, verbatim in its arithmetic --------------
def mel(num_mel_bins, dft_length, sample_rate, lower_edge_hertz, upper_edge_hertz):
    num_spectrogram_bins = dft_length // 2 + 1
    frequency_bins = np.arange(0, num_mel_bins + 2)
    low_frequency_mel = 2595 * np.log10(1 + lower_edge_hertz / 700)
    high_frequency_mel = 2595 * np.log10(1 + upper_edge_hertz / 700)
    mel_step = (high_frequency_mel - low_frequency_mel) / frequency_bins.shape[0]
    frequency_bins = frequency_bins * mel_step + low_frequency_mel
    frequency_bins = 700 * (np.power(10, (frequency_bins / 2595)) - 1)
    frequency_bins = ((dft_length + 1) * frequency_bins) // sample_rate
    frequency_bins = frequency_bins.astype(int)
    output = np.zeros((num_spectrogram_bins, num_mel_bins))
    for i in range(num_mel_bins):
        lower, center, higher = frequency_bins[i], frequency_bins[i + 1], frequency_bins[i + 2]
        if center == lower:
            output[center, i] = 1
        else:
            for j in range(lower, center + 1):
                output[j, i] = float(j - lower) / float(center - lower)
        if higher > center:
            for j in range(center, higher):
                output[j, i] = float(higher - j) / float(higher - center)
    return output


emit("kMel5x32", mel(np.int64(5), np.int64(32), np.int64(16000), np.float32(100),
                     np.float32(7000)))                            # [17, 5]
emit("kMel6x64Double", mel(np.int64(6), np.int64(64), np.int64(8000), np.float64(0),
                           np.float64(4000)))                      # [33, 6]
