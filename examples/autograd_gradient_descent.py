"""Seed 000: training a tiny sigmoid network by gradient descent, autograd style.

The program of the Russian notebook, run on flowgrad by changing only the
import lines (``import autograd.numpy as np`` -> ``import flowgrad.numpy as np``,
``from autograd import grad`` -> ``from flowgrad import grad``). It prints the
same numbers: y1, the error 0.43208904098296796 and its gradient, then the
errors of 64 gradient-descent steps (1.8720128308662338, 1.8686479260568558, ...).

It then runs nonlinear conjugate gradient done right. The notebook computed
``beta = np.dot(g, g) / np.dot(g_prev, g_prev)`` with 2 x 2 gradient matrices:
``np.dot`` of two matrices is a matrix product, so its "beta" was a matrix and
``beta * p_prev`` mixed the entries of the previous direction elementwise -
not conjugate gradient. Fletcher-Reeves needs the scalar
``beta = <g, g> / <g_prev, g_prev>``, the inner products of the flattened
gradients, which is what this example uses.

Run: python examples/autograd_gradient_descent.py [--steps 64]
"""

import argparse

import flowgrad.numpy as np
from flowgrad import grad


def sigmoid(z):
    z = 1 / (1 + np.exp(-z))
    return z


def dense_layer(x, W):
    """Output of one layer of standard neurons."""
    y = sigmoid(np.dot(x, W))
    return y


def mse(x, W, y_true):
    """Sum of squared errors of the two-layer network on one sample."""
    y = dense_layer(x, W)
    y1 = dense_layer(y, W)
    error = np.sum(np.square(y_true - y1))
    return error


mse_grad = grad(mse, 1)  # gradient with respect to argument 1, the weights W


def first_look() -> None:
    x0 = np.array([1.0, 1.0])
    W1 = np.array([[-2.0, 2.0], [0.4, -0.9]])
    y1 = dense_layer(x0, W1)
    print(f"y1={y1}")
    y_true = np.array([1.0, 0.0])
    e = mse(x0, W1, y_true)
    print(f"error={e}")
    grad_value = mse_grad(x0, W1, y_true)
    print(f"gradient=\n{grad_value}")


def gradient_descent(steps: int, k: float = 0.2) -> list:
    x0 = np.array([2.0, -4.0])
    W1 = np.array([[4.0, -2.0], [-1.0, -2.0]])
    y_true = np.array([0.0, 1.0])
    errors = []
    for i in range(steps):
        y = dense_layer(x0, W1)
        e = mse(x0, W1, y_true)
        grad_value = mse_grad(x0, W1, y_true)
        W1 = W1 - k * grad_value
        errors.append(e)
        print(f"n={i}, y={y}, error={e}")
    return errors


def conjugate_gradient(steps: int, k: float = 0.2) -> list:
    """Fletcher-Reeves nonlinear CG with the notebook's fixed step k and a restart
    whenever the direction stops being a descent direction."""
    x0 = np.array([2.0, -4.0])
    W1 = np.array([[4.0, -2.0], [-1.0, -2.0]])
    y_true = np.array([0.0, 1.0])
    g_prev = p_prev = None
    errors = []
    for i in range(steps):
        y = dense_layer(x0, W1)
        e = mse(x0, W1, y_true)
        g = mse_grad(x0, W1, y_true)
        if p_prev is None:
            p = g
        else:
            beta = np.vdot(g, g) / np.vdot(g_prev, g_prev)  # a scalar: flattened inner products
            p = g + beta * p_prev
            if np.vdot(g, p) <= 0:  # -p is not downhill any more: restart with steepest descent
                p = g
        W1 = W1 - k * p
        g_prev, p_prev = g, p
        errors.append(e)
        print(f"n={i}, y={y}, error={e}")
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=64, help="iterations of each method")
    args = parser.parse_args()
    print("== A first look: forward pass, error and its gradient ==")
    first_look()
    print(f"\n== Gradient descent, step 0.2, {args.steps} steps ==")
    gd = gradient_descent(args.steps)
    print(f"\n== Conjugate gradient (Fletcher-Reeves, scalar beta), step 0.2, {args.steps} steps ==")
    cg = conjugate_gradient(args.steps)
    print(f"\nfinal error: gradient descent {gd[-1]:.6f}, conjugate gradient {cg[-1]:.6f}")


if __name__ == "__main__":
    main()
