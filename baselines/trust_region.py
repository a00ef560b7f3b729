"""Natural-gradient machinery shared by HATRPO and MACPO: flat parameters, Fisher-vector
products through the KL's Hessian, conjugate gradient, and CPO's dual solution."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

EPS = 1e-8


def flat_params(module: nn.Module) -> torch.Tensor:
    return torch.cat([p.data.reshape(-1) for p in module.parameters()])


def set_flat_params(module: nn.Module, flat: torch.Tensor) -> None:
    offset = 0
    for p in module.parameters():
        n = p.numel()
        p.data.copy_(flat[offset : offset + n].view_as(p))
        offset += n


def flat_grad(
    output: torch.Tensor, module: nn.Module, *, retain_graph: bool = False, create_graph: bool = False
):
    params = list(module.parameters())
    grads = torch.autograd.grad(
        output,
        params,
        retain_graph=retain_graph or create_graph,
        create_graph=create_graph,
        allow_unused=True,
    )
    return torch.cat(
        [
            (g if g is not None else torch.zeros_like(p)).reshape(-1)
            for g, p in zip(grads, params, strict=True)
        ]
    )


def conjugate_gradient(
    matrix_vector: Callable[[torch.Tensor], torch.Tensor], b: torch.Tensor, iters: int, tol: float = 1e-10
) -> torch.Tensor:
    """Solve A x = b for a symmetric positive-definite A given only x -> A x."""
    x = torch.zeros_like(b)
    r, p = b.clone(), b.clone()
    r_dot = r @ r
    for _ in range(iters):
        ap = matrix_vector(p)
        alpha = r_dot / (p @ ap + EPS)
        x += alpha * p
        r -= alpha * ap
        new_r_dot = r @ r
        if new_r_dot < tol:
            break
        p = r + (new_r_dot / r_dot) * p
        r_dot = new_r_dot
    return x


def fisher_vector_product(
    kl_fn: Callable[[], torch.Tensor], module: nn.Module, damping: float
) -> Callable[[torch.Tensor], torch.Tensor]:
    """v -> (H_KL + damping I) v, where H_KL is the Hessian of the mean KL at the current policy."""
    grads = flat_grad(kl_fn(), module, create_graph=True)

    def product(v: torch.Tensor) -> torch.Tensor:
        return flat_grad(grads @ v, module, retain_graph=True) + damping * v

    return product


def trpo_step(g: torch.Tensor, fvp: Callable[[torch.Tensor], torch.Tensor], kl_threshold: float, iters: int):
    """The natural-gradient step scaled so that its quadratic KL estimate equals the threshold."""
    direction = conjugate_gradient(fvp, g, iters)
    quadratic = direction @ fvp(direction)
    scale = math.sqrt(2.0 * kl_threshold / (float(quadratic) + EPS))
    return direction * scale


@dataclass
class CPOSolution:
    """The step and which CPO case produced it (0: infeasible recovery ... 4: no cost gradient)."""

    step: torch.Tensor
    case: int
    lam: float
    nu: float


def cpo_step(
    g: torch.Tensor,
    b: torch.Tensor,
    c: float,
    fvp: Callable[[torch.Tensor], torch.Tensor],
    kl_threshold: float,
    iters: int,
) -> CPOSolution:
    """Solve CPO's trust-region problem (Achiam et al., 2017, appendix): maximise g.x subject to
    0.5 x'Fx <= delta and c + b.x <= 0, through its dual in (lambda, nu). Here g and b are the
    gradients of the objective and of the cost surrogate, so the step is x = F^-1 (g - nu b) / lambda
    with nu = (lambda c + r)+ / s, r = g'F^-1 b, s = b'F^-1 b."""
    delta = kl_threshold
    x = conjugate_gradient(fvp, g, iters)
    q = float(g @ x)
    if float(b @ b) <= EPS and c < 0:  # no cost gradient, constraint satisfied: plain TRPO
        return CPOSolution(x * math.sqrt(2 * delta / (q + EPS)), 4, math.sqrt(q / (2 * delta)), 0.0)
    y = conjugate_gradient(fvp, b, iters)
    r, s = float(g @ y), float(b @ y)
    big_a = q - r * r / (s + EPS)
    big_b = 2 * delta - c * c / (s + EPS)
    if c < 0 and big_b < 0:
        case = 3  # the whole trust region is feasible
    elif c < 0 <= big_b:
        case = 2  # feasible now; the constraint boundary crosses the trust region
    elif c >= 0 and big_b >= 0:
        case = 1  # infeasible now, but a feasible point lies inside the trust region
    else:
        case = 0  # infeasible and no feasible point within the region: recover
    if case in (3,):
        lam, nu = math.sqrt(q / (2 * delta)), 0.0
    elif case in (1, 2):
        # lambda's two candidate ranges meet where lambda c + r changes sign (nu's activity)
        split = -r / c if c != 0 else math.inf
        range_a, range_b = (0.0, split), (split, math.inf)
        if c >= 0:
            range_a, range_b = range_b, range_a
        lam_a = _project(math.sqrt(max(big_a, 0.0) / (big_b + EPS)), range_a)
        lam_b = _project(math.sqrt(q / (2 * delta)), range_b)

        def f_a(lam: float) -> float:
            return -0.5 * (big_a / (lam + EPS) + big_b * lam) + r * c / (s + EPS)

        def f_b(lam: float) -> float:
            return -0.5 * (q / (lam + EPS) + 2 * delta * lam)

        lam = lam_a if f_a(lam_a) >= f_b(lam_b) else lam_b
        nu = max(0.0, lam * c + r) / (s + EPS)
    else:
        lam, nu = 0.0, math.sqrt(2 * delta / (s + EPS))
    step = (x - nu * y) / (lam + EPS) if case > 0 else -nu * y
    return CPOSolution(step, case, lam, nu)


def _project(value: float, bounds: tuple[float, float]) -> float:
    low, high = min(bounds), max(bounds)
    return max(low, min(high, value))


def capped_step(step: torch.Tensor, max_norm: float | None, fraction: float) -> torch.Tensor:
    """MACPO's step before its line search: norm capped at `max_norm` (None: no cap), then
    scaled by `fraction` (the source's fraction_coef)."""
    norm = float(step.norm())
    if max_norm is not None and norm > max_norm:
        step = step * (max_norm / norm)
    return step * fraction
