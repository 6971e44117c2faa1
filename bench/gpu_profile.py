"""Where ember's time goes on CUDA: cProfile of the GPT and MLP steps from bench/gpu.py (ember side only).

    python bench/gpu_profile.py [gpt|mlp]
"""
import cProfile
import os
import pstats
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [here, os.path.dirname(here)]
import ember as T  # noqa: E402
from gpu import steps  # noqa: E402

mlp_step, gpt_step = steps(T, "cuda")
step = mlp_step if (sys.argv[1:] or ["gpt"])[0] == "mlp" else gpt_step
for _ in range(3):
    step()
T.cuda.synchronize()
pr = cProfile.Profile()
pr.enable()
for _ in range(5):
    step()
T.cuda.synchronize()
pr.disable()
st = pstats.Stats(pr)
st.sort_stats("tottime").print_stats(30)
st.sort_stats("cumulative").print_stats(45)
