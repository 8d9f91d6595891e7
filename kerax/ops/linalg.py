"""Linear algebra ops, as `keras.ops.linalg`, over `jax.numpy.linalg` / `jax.scipy.linalg`."""

import jax
import jax.numpy as jnp

from kerax.ops.core import convert_to_tensor
from kerax.ops.dtypes import float_dtype

_t = convert_to_tensor


def _float(x):
    x = _t(x)
    return x.astype(float_dtype(x))


def cholesky(x, upper=False):
    """The Cholesky factor of the positive-definite `x` (lower unless `upper`).

    Example:
    >>> cholesky(jnp.array([[4.0, 0.0], [0.0, 9.0]])).tolist()
    [[2.0, 0.0], [0.0, 3.0]]
    """
    return jnp.linalg.cholesky(_float(x), upper=upper)


def cholesky_inverse(x, upper=False):
    """The inverse of `A` from its Cholesky factor `x`."""
    x = _float(x)
    eye = jnp.broadcast_to(jnp.eye(x.shape[-1], dtype=x.dtype), x.shape)
    return jax.scipy.linalg.cho_solve((x, not upper), eye)


def det(x):
    """Determinant of `x`."""
    return jnp.linalg.det(_float(x))


def eig(x):
    """Eigenvalues and eigenvectors of a square matrix."""
    return jnp.linalg.eig(_float(x))


def eigh(x):
    """Eigenvalues and eigenvectors of a symmetric (Hermitian) matrix."""
    return tuple(jnp.linalg.eigh(_float(x)))


def inv(x):
    """Inverse of `x`."""
    return jnp.linalg.inv(_float(x))


def jvp(fun, primals, tangents, has_aux=False):
    """Jacobian-vector product of `fun` at `primals` along `tangents` (`jax.jvp`)."""
    return jax.jvp(fun, primals, tangents, has_aux=has_aux)


def lstsq(a, b, rcond=None):
    """Least-squares solution of `a @ x = b`."""
    return jnp.linalg.lstsq(_float(a), _float(b), rcond=rcond)[0]


def lu_factor(x):
    """LU factorization with partial pivoting: `(lu, pivots)`."""
    lu, pivots, _ = jax.lax.linalg.lu(_float(x))
    return lu, pivots


def matrix_rank(x, tol=None):
    """The rank of `x` (singular values above `tol`)."""
    return jnp.linalg.matrix_rank(_float(x), rtol=None, tol=tol).astype("int32")


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm of `x`."""
    return jnp.linalg.norm(_float(x), ord=ord, axis=axis, keepdims=keepdims)


def pinv(x, rcond=None):
    """Moore-Penrose pseudo-inverse of `x`."""
    return jnp.linalg.pinv(_float(x), rtol=rcond)


def qr(x, mode="reduced"):
    """QR decomposition: `(q, r)`."""
    if mode not in ("reduced", "complete"):
        raise ValueError(f"`mode` must be 'reduced' or 'complete'. Received: mode={mode!r}")
    return tuple(jnp.linalg.qr(_float(x), mode=mode))


def solve(a, b):
    """Solves `a @ x = b` for `x`."""
    return jnp.linalg.solve(_float(a), _float(b))


def solve_triangular(a, b, lower=False):
    """Solves `a @ x = b` for `x` with triangular `a`."""
    return jax.scipy.linalg.solve_triangular(_float(a), _float(b), lower=lower)


def svd(x, full_matrices=True, compute_uv=True):
    """Singular value decomposition: `(u, s, vh)`, or `s` without `compute_uv`."""
    out = jnp.linalg.svd(_float(x), full_matrices=full_matrices, compute_uv=compute_uv)
    return tuple(out) if compute_uv else out


__all__ = sorted(
    n for n, v in globals().items()
    if callable(v) and not n.startswith("_") and getattr(v, "__module__", "") == __name__
)
