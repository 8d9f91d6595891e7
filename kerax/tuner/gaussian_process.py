"""A Gaussian-process regressor in numpy: what keras-tuner's Bayesian oracle asks of
scikit-learn's `GaussianProcessRegressor(Matern(nu=2.5), normalize_y=True, alpha)`.

The kernel is an isotropic Matern 5/2 with one length scale, fitted by maximizing the
log marginal likelihood over `log(length_scale)` in `[log 1e-5, log 1e5]` (a dense grid,
then golden-section refinement: the likelihood is one-dimensional, so this finds its
global maximum where scikit-learn's L-BFGS-B restarts may stop at a local one).
"""

import math

import numpy as np

_SQRT5 = math.sqrt(5.0)
_LOG_BOUNDS = (math.log(1e-5), math.log(1e5))


def matern52(a, b, length_scale):
    """Matern kernel with nu=2.5 between the rows of `a` and of `b`."""
    d = np.sqrt(np.maximum(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1), 0.0))
    r = _SQRT5 * d / length_scale
    return (1.0 + r + r * r / 3.0) * np.exp(-r)


class GaussianProcess:
    """Fit with `fit(x, y)`; `predict(x)` returns the posterior mean and std.

    Example:
    >>> gp = GaussianProcess().fit(np.array([[0.0], [1.0]]), np.array([0.0, 1.0]))
    >>> mean, std = gp.predict(np.array([[0.0]]))
    >>> round(float(mean[0]), 3), bool(std[0] < 0.05)
    (0.0, True)
    """

    def __init__(self, alpha=1e-4, length_scale=None):
        self.alpha = alpha
        self.fixed_length_scale = length_scale
        self.length_scale = None

    def log_marginal_likelihood(self, log_length_scale):
        k = matern52(self._x, self._x, math.exp(log_length_scale))
        k[np.diag_indices_from(k)] += self.alpha
        try:
            chol = np.linalg.cholesky(k)
        except np.linalg.LinAlgError:
            return -np.inf
        a = np.linalg.solve(chol.T, np.linalg.solve(chol, self._y))
        n = len(self._y)
        return float(-0.5 * self._y @ a - np.log(np.diag(chol)).sum()
                     - 0.5 * n * math.log(2 * math.pi))

    def _fit_length_scale(self):
        grid = np.linspace(*_LOG_BOUNDS, 401)
        values = [self.log_marginal_likelihood(t) for t in grid]
        i = int(np.argmax(values))
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
        ratio = (math.sqrt(5) - 1) / 2
        for _ in range(60):  # golden-section search for the maximum in [lo, hi]
            c, d = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
            if self.log_marginal_likelihood(c) >= self.log_marginal_likelihood(d):
                hi = d
            else:
                lo = c
        best = (lo + hi) / 2
        if self.log_marginal_likelihood(best) < values[i]:
            best = grid[i]
        return math.exp(best)

    def fit(self, x, y):
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        self._mean = y.mean()
        std = y.std()
        self._std = std if std > 10 * np.finfo(np.float64).eps else 1.0
        self._x, self._y = x, (y - self._mean) / self._std
        self.length_scale = self.fixed_length_scale or self._fit_length_scale()
        k = matern52(x, x, self.length_scale)
        k[np.diag_indices_from(k)] += self.alpha
        self._chol = np.linalg.cholesky(k)
        self._a = np.linalg.solve(self._chol.T, np.linalg.solve(self._chol, self._y))
        return self

    def predict(self, x):
        """(mean, std) of the posterior at the rows of `x`, in the units of `y`."""
        k_trans = matern52(np.asarray(x, np.float64), self._x, self.length_scale)
        mean = k_trans @ self._a
        v = np.linalg.solve(self._chol, k_trans.T)
        var = np.maximum(1.0 - (v * v).sum(0), 0.0)
        return mean * self._std + self._mean, np.sqrt(var) * self._std
