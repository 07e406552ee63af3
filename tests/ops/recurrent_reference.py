#!/usr/bin/python3
"""Reference outputs for tests/ops/recurrent_test.cc, computed with NumPy in float64.

An independent, step-by-step transcription of the ONNX spec's equations for RNN, GRU and
LSTM (one batch entry and one time step at a time, no shared GEMMs, no folded biases), run on
small inputs drawn from a fixed seed. It prints C++ initialisers that the test keeps as
literals; rerun it and paste its output only when the cases change:
  python3 tests/ops/recurrent_reference.py
"""
import numpy as np

FNS = {
    "Relu": lambda x, a, b: np.maximum(x, 0),
    "Tanh": lambda x, a, b: np.tanh(x),
    "Sigmoid": lambda x, a, b: 1 / (1 + np.exp(-x)),
    "Affine": lambda x, a, b: a * x + b,
    "LeakyRelu": lambda x, a, b: np.where(x >= 0, x, a * x),
    "ThresholdedRelu": lambda x, a, b: np.where(x > a, x, 0),
    "ScaledTanh": lambda x, a, b: a * np.tanh(b * x),
    "HardSigmoid": lambda x, a, b: np.clip(a * x + b, 0, 1),
    "Elu": lambda x, a, b: np.where(x >= 0, x, a * (np.exp(x) - 1)),
    "Softsign": lambda x, a, b: x / (1 + np.abs(x)),
    "Softplus": lambda x, a, b: np.log1p(np.exp(x)),
}


def run(op, x, w, r, b=None, lens=None, h0=None, c0=None, p=None, direction="forward",
        layout=0, fns=None, clip=None, lbr=0, input_forget=0):
    """x, h0, c0 in the node's layout; returns Y, Y_h, Y_c in the node's layout."""
    if layout == 1:
        x = x.transpose(1, 0, 2)
        h0 = None if h0 is None else h0.transpose(1, 0, 2)
        c0 = None if c0 is None else c0.transpose(1, 0, 2)
    seq, batch, _ = x.shape
    nd, _, hid = r.shape
    nf = {"RNN": 1, "GRU": 2, "LSTM": 3}[op]
    gates = {"RNN": 1, "GRU": 3, "LSTM": 4}[op]
    if b is None:
        b = np.zeros((nd, 2 * gates * hid))
    if lens is None:
        lens = [seq] * batch
    if h0 is None:
        h0 = np.zeros((nd, batch, hid))
    if c0 is None:
        c0 = np.zeros((nd, batch, hid))
    if p is None:
        p = np.zeros((nd, 3 * hid))
    act = [lambda v, f=f: FNS[f[0]](v, f[1], f[2]) for f in fns]
    cl = (lambda v: v) if clip is None else (lambda v: np.clip(v, -clip, clip))
    y = np.zeros((seq, nd, batch, hid))
    yh = np.zeros((nd, batch, hid))
    yc = np.zeros((nd, batch, hid))
    for d in range(nd):
        f, g, h = (act[d * nf + i] if i < nf else None for i in range(3))
        rev = direction == "reverse" or d == 1
        W = np.split(w[d], gates)
        R = np.split(r[d], gates)
        Wb = np.split(b[d][: gates * hid], gates)
        Rb = np.split(b[d][gates * hid:], gates)
        for n in range(batch):
            H, C = h0[d, n].copy(), c0[d, n].copy()
            steps = range(lens[n] - 1, -1, -1) if rev else range(lens[n])
            for t in steps:
                X = x[t, n]
                if op == "RNN":
                    H = f(cl(X @ W[0].T + H @ R[0].T + Wb[0] + Rb[0]))
                elif op == "GRU":
                    z = f(cl(X @ W[0].T + H @ R[0].T + Wb[0] + Rb[0]))
                    rr = f(cl(X @ W[1].T + H @ R[1].T + Wb[1] + Rb[1]))
                    if lbr:
                        hh = g(cl(X @ W[2].T + rr * (H @ R[2].T + Rb[2]) + Wb[2]))
                    else:
                        hh = g(cl(X @ W[2].T + (rr * H) @ R[2].T + Rb[2] + Wb[2]))
                    H = (1 - z) * hh + z * H
                else:
                    pi, po, pf = np.split(p[d], 3)
                    i = f(cl(X @ W[0].T + H @ R[0].T + pi * C + Wb[0] + Rb[0]))
                    if input_forget:
                        ft = 1 - i
                    else:
                        ft = f(cl(X @ W[2].T + H @ R[2].T + pf * C + Wb[2] + Rb[2]))
                    c = g(cl(X @ W[3].T + H @ R[3].T + Wb[3] + Rb[3]))
                    C = ft * C + i * c
                    o = f(cl(X @ W[1].T + H @ R[1].T + po * C + Wb[1] + Rb[1]))
                    H = o * h(cl(C))
                y[t, d, n] = H
            if lens[n] > 0:  # a sequence of length 0 has zero Y_h and Y_c, as ONNX Runtime
                yh[d, n], yc[d, n] = H, C
    if layout == 1:
        y, yh, yc = y.transpose(2, 0, 1, 3), yh.transpose(1, 0, 2), yc.transpose(1, 0, 2)
    return y, yh, yc


rng = np.random.default_rng(14)


def rand(*shape):
    return np.round(rng.uniform(-1, 1, shape), 2)


def emit(name, a):
    vals = ", ".join("%.9g" % v for v in a.reshape(-1))
    print("const std::vector<float> k%s = {%s};  // %s" % (name, vals, list(a.shape)))


def case(tag, op, seq, batch, inp, hid, nd, layout, **kw):
    gates = {"RNN": 1, "GRU": 3, "LSTM": 4}[op]
    x = rand(batch, seq, inp) if layout else rand(seq, batch, inp)
    w, r, b = rand(nd, gates * hid, inp), rand(nd, gates * hid, hid), rand(nd, 2 * gates * hid)
    state = (batch, nd, hid) if layout else (nd, batch, hid)
    h0, c0 = rand(*state), rand(*state)
    p = rand(nd, 3 * hid) if op == "LSTM" else None
    print("// %s: %s seq %d batch %d input %d hidden %d dirs %d layout %d %s" %
          (tag, op, seq, batch, inp, hid, nd, layout, kw))
    for n, a in (("X", x), ("W", w), ("R", r), ("B", b), ("H0", h0)):
        emit(tag + n, a)
    if op == "LSTM":
        emit(tag + "C0", c0)
        emit(tag + "P", p)
    y, yh, yc = run(op, x, w, r, b=b, h0=h0, c0=c0, p=p, layout=layout,
                    direction="bidirectional" if nd == 2 else kw.pop("direction", "forward"), **kw)
    emit(tag + "Y", y)
    emit(tag + "Yh", yh)
    if op == "LSTM":
        emit(tag + "Yc", yc)
    print()


T, S = ("Tanh", 0, 0), ("Sigmoid", 0, 0)
case("Rnn", "RNN", 3, 2, 2, 3, 2, 1, lens=[3, 1], fns=[T, ("Relu", 0, 0)])
case("GruLbr", "GRU", 3, 3, 2, 2, 2, 1, lens=[2, 3, 0], fns=[S, T] * 2, lbr=1)
case("Gru", "GRU", 4, 2, 3, 2, 2, 0, lens=[4, 2], fns=[S, T, ("HardSigmoid", 0.3, 0.4), T])
case("Lstm", "LSTM", 3, 2, 2, 2, 2, 1, lens=[1, 3], fns=[S, T, T] * 2)
case("LstmForget", "LSTM", 3, 2, 2, 3, 1, 0, direction="reverse", lens=[3, 2],
     fns=[S, ("ScaledTanh", 0.8, 1.5), ("Elu", 0.7, 0)], clip=0.9, input_forget=1)
