"""The README's main job: trains on the bundled digits, reaches >= 95%, and resumes exactly."""
import ember
from ember.examples import digits


def test_trains_to_95_percent_and_checkpoints(tmp_path):
    ck = tmp_path / "d.pt"
    model, acc = digits.train(epochs=8, checkpoint=str(ck), log=lambda *a: None)
    assert acc >= 0.95
    saved = ember.load(ck)
    assert saved["epoch"] == 8 and abs(saved["test_acc"] - acc) < 1e-12
    assert set(saved["model"]) == {"features.0.weight", "features.0.bias", "features.3.weight", "features.3.bias",
                                   "classifier.weight", "classifier.bias"}


def test_worker_processes_give_the_same_run(tmp_path):
    _, acc0 = digits.train(epochs=2, workers=0, log=lambda *a: None)
    _, acc2 = digits.train(epochs=2, workers=2, log=lambda *a: None)
    assert acc0 == acc2


def test_resume_continues_identically(tmp_path):
    logs_a, logs_b = [], []
    digits.train(epochs=3, checkpoint=str(tmp_path / "a.pt"), log=logs_a.append)
    _, acc_resumed = digits.train(epochs=6, checkpoint=str(tmp_path / "a.pt"), resume=True, log=logs_a.append)
    _, acc_straight = digits.train(epochs=6, checkpoint=str(tmp_path / "b.pt"), log=logs_b.append)
    assert acc_resumed == acc_straight
    # the per-epoch lines of epochs 4..6 are identical (loss and accuracies)
    assert [s for s in logs_a if s.startswith("epoch")][-3:] == [s for s in logs_b if s.startswith("epoch")][-3:]
    a, b = ember.load(tmp_path / "a.pt"), ember.load(tmp_path / "b.pt")
    for k in a["model"]:
        assert ember.equal(a["model"][k], b["model"][k])
