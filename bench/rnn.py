"""Recurrent-layer micro-benchmarks: ember vs torch, each side in its own process.

    python bench/rnn.py [--threads 2]

- LSTM(64 -> 128), seq 32, batch 32: the bench/nn.py train step (forward + backward + SGD), and its parts
- the same layer bidirectional, 2 layers, and with proj_size (the per-step route)
- GRU(64 -> 128) train step
Times are per call, best of 5 repeats; the ratio is what matters.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness as H  # noqa: E402


def measure(side):
    T = H.library(side)
    nn, F = T.nn, T.nn.functional
    T.manual_seed(0)
    r = {}
    xs, ys = T.randn(32, 32, 64), T.randint(0, 10, (32,))

    def train_step(rnn, hidden):
        head = nn.Linear(hidden, 10)
        sgd = T.optim.SGD(list(rnn.parameters()) + list(head.parameters()), lr=0.01)

        def step():
            sgd.zero_grad()
            out, _ = rnn(xs)
            F.cross_entropy(head(out[-1]), ys).backward()
            sgd.step()
        return step

    lstm = nn.LSTM(64, 128)
    r["LSTM(64->128) seq32 b32 train step"] = H.best_of(train_step(lstm, 128), 5)

    def fwd():
        with T.no_grad():
            lstm(xs)
    r["LSTM(64->128) seq32 b32 forward no_grad"] = H.best_of(fwd, 10)

    def fwd_graph():
        lstm(xs)
    r["LSTM(64->128) seq32 b32 forward (graph)"] = H.best_of(fwd_graph, 10)

    def fwd_bwd():
        lstm.zero_grad()
        lstm(xs)[0].sum().backward()
    r["LSTM(64->128) seq32 b32 fwd+bwd (sum)"] = H.best_of(fwd_bwd, 5)

    r["LSTM bidirectional seq32 b32 train step"] = H.best_of(
        train_step(nn.LSTM(64, 128, bidirectional=True), 256), 3)
    r["LSTM 2 layers seq32 b32 train step"] = H.best_of(train_step(nn.LSTM(64, 128, num_layers=2), 128), 3)
    r["LSTM proj_size=64 seq32 b32 train step"] = H.best_of(train_step(nn.LSTM(64, 128, proj_size=64), 64), 3)
    r["GRU(64->128) seq32 b32 train step"] = H.best_of(train_step(nn.GRU(64, 128), 128), 3)
    return r


if __name__ == "__main__":
    res, args = H.main(__doc__, measure, __file__)
    if res is not None:
        H.report("bench/rnn.py", res, args.threads)
