"""The ``ember.linalg`` namespace (torch.linalg): decompositions, solvers, norms and products.

Everything is implemented in ``ember.ops.linalg_ext``; this module only names it like torch.
"""
from .ops.linalg import matmul  # noqa: F401
from .ops.linalg_ext import LINALG as _LINALG
from .ops.linalg_ext import LinAlgError  # noqa: F401

cross = _LINALG["cross"]
det = _LINALG["det"]
slogdet = _LINALG["slogdet"]
inv = _LINALG["inv"]
inv_ex = _LINALG["inv_ex"]
solve = _LINALG["solve"]
solve_ex = _LINALG["solve_ex"]
solve_triangular = _LINALG["solve_triangular"]
cholesky = _LINALG["cholesky"]
cholesky_ex = _LINALG["cholesky_ex"]
eigh = _LINALG["eigh"]
eigvalsh = _LINALG["eigvalsh"]
eig = _LINALG["eig"]
eigvals = _LINALG["eigvals"]
svd = _LINALG["svd"]
svdvals = _LINALG["svdvals"]
qr = _LINALG["qr"]
lstsq = _LINALG["lstsq"]
pinv = _LINALG["pinv"]
matrix_rank = _LINALG["matrix_rank"]
matrix_power = _LINALG["matrix_power"]
matrix_exp = _LINALG["matrix_exp"]
norm = _LINALG["norm"]
vector_norm = _LINALG["vector_norm"]
matrix_norm = _LINALG["matrix_norm"]
cond = _LINALG["cond"]
diagonal = _LINALG["diagonal"]
vecdot = _LINALG["vecdot"]
tensorinv = _LINALG["tensorinv"]
tensorsolve = _LINALG["tensorsolve"]
multi_dot = _LINALG["multi_dot"]
lu_factor = _LINALG["lu_factor"]
lu_factor_ex = _LINALG["lu_factor_ex"]
lu = _LINALG["lu"]
lu_solve = _LINALG["lu_solve"]
householder_product = _LINALG["householder_product"]
vander = _LINALG["vander"]

__all__ = sorted(k for k in _LINALG) + ["matmul"]
