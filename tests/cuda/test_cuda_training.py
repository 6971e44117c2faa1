"""Tensors, nn, optim, save/load and the ember.cuda namespace on a GPU (CuPy); skipped without one.

The same seeded program runs on cpu and on cuda and must give the same numbers, since ember's
parameters are initialised on the CPU generator and moved.
"""
import io

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F

if not ember.cuda.is_available():
    pytest.skip("needs a GPU (CuPy and a CUDA device)", allow_module_level=True)


def test_transfer_round_trip_and_views():
    x = ember.arange(12.0).reshape(3, 4)
    g = x.cuda()
    assert g.device == ember.device("cuda", 0) and g.is_cuda and not x.is_cuda
    v = g.t()  # a view on the GPU shares storage
    v[0, 1] = 100.0
    assert g[1, 0].item() == 100.0
    assert g.stride() == (4, 1) and v.stride() == (1, 4)
    back = g.to("cpu")
    assert back.device.type == "cpu" and back[1, 0].item() == 100.0
    assert x[1, 0].item() == 4.0  # the CPU original is untouched
    assert ember.equal(ember.tensor([1, 2], device="cuda").cpu(), ember.tensor([1, 2]))


def test_mixed_devices_raise_torchs_error():
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        ember.ones(2, device="cuda") + ember.ones(2)


def test_numpy_needs_cpu():
    with pytest.raises(TypeError, match="cuda"):
        ember.ones(2, device="cuda").numpy()


def test_factories_on_cuda():
    for t in (ember.zeros(2, 3, device="cuda"), ember.randn(4, device="cuda"), ember.arange(5, device="cuda"),
              ember.full((2,), 7, device="cuda"), ember.eye(3, device="cuda"), ember.empty(0, device="cuda")):
        assert t.device.type == "cuda"
    assert ember.zeros(2, device="cuda").dtype is ember.float32
    assert ember.arange(5, device="cuda").dtype is ember.int64


def _mlp():
    # (no conv bias before BatchNorm: its gradient is zero up to rounding, which Adam would amplify)
    ember.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 32), nn.GELU(), nn.LayerNorm(32), nn.Dropout(0.0),
                         nn.Linear(32, 3))


def _train(device, steps=5):
    model = _mlp().to(device)
    opt = ember.optim.AdamW(model.parameters(), lr=1e-2)
    gen = np.random.default_rng(1)
    x = ember.from_numpy(gen.standard_normal((8, 1, 8, 8)).astype(np.float32)).to(device)
    y = ember.from_numpy(gen.integers(0, 3, 8)).to(device)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    return model, losses


def test_training_matches_cpu():
    cpu_model, cpu_losses = _train("cpu")
    gpu_model, gpu_losses = _train("cuda")
    np.testing.assert_allclose(gpu_losses, cpu_losses, rtol=1e-4, atol=1e-5)
    assert cpu_losses[-1] < cpu_losses[0]
    for (n, p), (_, q) in zip(cpu_model.state_dict().items(), gpu_model.state_dict().items()):
        assert q.device.type == "cuda", n
        np.testing.assert_allclose(q.cpu().numpy(), p.numpy(), rtol=1e-3, atol=1e-4, err_msg=n)


def test_lstm_and_attention_on_cuda():
    ember.manual_seed(0)
    lstm = nn.LSTM(5, 7, num_layers=2, batch_first=True)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = ember.randn(3, 4, 5)
    q = ember.randn(2, 6, 8)
    out_c, _ = lstm(x)
    att_c, w_c = mha(q, q, q)
    lstm.cuda()
    mha.cuda()
    out_g, (h, c) = lstm(x.cuda())
    att_g, w_g = mha(q.cuda(), q.cuda(), q.cuda())
    assert h.device.type == "cuda"
    np.testing.assert_allclose(out_g.detach().cpu().numpy(), out_c.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(att_g.detach().cpu().numpy(), att_c.detach().numpy(), rtol=1e-4, atol=1e-5)
    (out_g.sum() + att_g.sum()).backward()
    assert lstm.weight_ih_l0.grad.device.type == "cuda"


def test_save_load_cuda_tensors_map_location():
    t = ember.arange(6.0, device="cuda").reshape(2, 3)
    buf = io.BytesIO()
    ember.save({"t": t}, buf)
    buf.seek(0)
    back = ember.load(buf)["t"]
    assert back.device.type == "cuda" and ember.equal(back.cpu(), t.cpu())
    buf.seek(0)
    cpu = ember.load(buf, map_location="cpu")["t"]
    assert cpu.device.type == "cpu" and cpu.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_cuda_namespace_reports_real_figures():
    assert ember.cuda.device_count() >= 1
    assert isinstance(ember.cuda.get_device_name(), str) and ember.cuda.get_device_name()
    ember.cuda.synchronize()
    ember.cuda.empty_cache()
    ember.cuda.reset_peak_memory_stats()
    before = ember.cuda.memory_allocated()
    t = ember.empty(1024, 1024, device="cuda")  # 4 MiB
    assert ember.cuda.memory_allocated() - before >= 4 * 1024 * 1024
    assert ember.cuda.max_memory_allocated() >= ember.cuda.memory_allocated()
    del t
    assert isinstance(ember.cuda.memory_summary(), str)
    assert ember.cuda.is_bf16_supported() in (True, False)
    ember.cuda.manual_seed(3)
    a = ember.randn(5, device="cuda")
    ember.cuda.manual_seed(3)
    b = ember.randn(5, device="cuda")
    assert ember.equal(a, b)
    assert ember.accelerator.is_available() and ember.accelerator.current_accelerator().type == "cuda"


def test_autocast_cuda_float16():
    a = ember.randn(4, 4, device="cuda")
    with ember.autocast("cuda", dtype=ember.float16):
        r = a @ a
        s = r.softmax(-1)
    assert r.dtype is ember.float16 and s.dtype is ember.float32
    scaler = ember.amp.GradScaler("cuda", init_scale=1024.0)
    w = ember.randn(4, 4, device="cuda", requires_grad=True)
    opt = ember.optim.SGD([w], lr=0.1)
    with ember.autocast("cuda", dtype=ember.float16):
        loss = (a @ w).float().pow(2).mean()
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() == 1024.0 and w.grad.dtype is ember.float32
