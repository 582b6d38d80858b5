"""Benchmark: the output layer's three products of one CPU training step (tiny model, batch
4 x 256: logits = H W^T, dH = L W, dW = L^T H with H [1024, 128], W [50257, 128]) through
LibTorch's BLAS (OpenBLAS) and through oneDNN's sgemm (libdnnl.so.2, which Debian's LibTorch
already loads), in one process, alternating, median of 10 after 2 warm-up calls, into
preallocated outputs (so the allocator does not count). The kernels: OPENBLAS_CORETYPE for
OpenBLAS, DNNL_MAX_CPU_ISA (e.g. AVX2) to cap oneDNN's.
usage: /usr/bin/python3 benchmarks/loss_products.py [--threads N] [--rounds R]
"""
import argparse
import ctypes
import time

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--rounds", type=int, default=3)
args = parser.parse_args()
torch.set_num_threads(args.threads)
dnnl = ctypes.CDLL("libdnnl.so.2")
sgemm = dnnl.dnnl_sgemm
sgemm.restype = ctypes.c_int
i64, f32, ptr = ctypes.c_int64, ctypes.c_float, ctypes.c_void_p
sgemm.argtypes = [ctypes.c_char, ctypes.c_char, i64, i64, i64, f32, ptr, i64, ptr, i64, f32, ptr, i64]


def onednn(a, ta, b, tb, c):
    """c = op(a) op(b), row-major, as cpu_gemm.cpp calls it"""
    k = a.shape[0] if ta else a.shape[1]
    status = sgemm(b"T" if ta else b"N", b"T" if tb else b"N", c.shape[0], c.shape[1], k, 1.0, a.data_ptr(),
                   a.stride(0), b.data_ptr(), b.stride(0), 0.0, c.data_ptr(), c.stride(0))
    assert status == 0, status


R, D, V = 1024, 128, 50257
torch.manual_seed(0)
H, W = torch.randn(R, D), torch.randn(V, D) * 0.05
outs = {name: (torch.empty(R, V), torch.empty(R, D), torch.empty(V, D)) for name in ("blas", "onednn")}


def with_blas():
    L, dH, dW = outs["blas"]
    torch.mm(H, W.t(), out=L)
    torch.mm(L, W, out=dH)
    torch.mm(L.t(), H, out=dW)


def with_onednn():
    L, dH, dW = outs["onednn"]
    onednn(H, False, W, True, L)
    onednn(L, False, W, False, dH)
    onednn(L, True, H, False, dW)


with_blas()
with_onednn()
for b, o in zip(outs["blas"], outs["onednn"]):
    rel = ((b - o).abs().max() / b.abs().max()).item()
    assert rel < 1e-5, f"oneDNN and BLAS disagree: max relative difference {rel:.3g}"


def median_ms(fn, n=10):
    fn()
    fn()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[n // 2] * 1e3


flop = 3 * 2 * R * V * D
for r in range(1, args.rounds + 1):
    b, o = median_ms(with_blas), median_ms(with_onednn)
    print(f"loss_products: round {r}: system BLAS {b:.1f} ms ({flop / b / 1e6:.0f} GFLOP/s), "
          f"oneDNN {o:.1f} ms ({flop / o / 1e6:.0f} GFLOP/s), {b / o:.2f}x")
