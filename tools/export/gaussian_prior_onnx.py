#!/usr/bin/env python3
"""Export the analytic Gaussian prior N(mu, s^2 I) as tiny ONNX score models (test fixtures).

Writes tests/fixtures/models/gaussian-{eps,x0,v}/{model.onnx,model.json}: the same prior in the
three parameterisations (eps, x0 and v = sqrt(ab)*eps - sqrt(1-ab)*x0), so the engine's adapters
can be checked against its native analytic prior. The graph computes, with ab = alphabar[t]:
  x0 = mu + c (x - sqrt(ab) mu),  c = sqrt(ab) s^2 / (ab s^2 + 1 - ab)
  eps = (x - sqrt(ab) x0) / sqrt(1 - ab)
Inputs: x float32 [N,C,H,W], t int64 [N]. Needs Debian's python3-onnx and python3-numpy.
The mean image and s must match tests (see the model card).
"""
import os
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from prior.card import write_model_card  # noqa: E402

C, H, W = 3, 8, 8
STD = 0.5
OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'tests', 'fixtures', 'models')


def prior_mean() -> np.ndarray:
    c, r, q = np.meshgrid(np.arange(C), np.arange(H), np.arange(W), indexing='ij')
    return (0.6 * np.sin(0.5 * r + 0.3 * q + c)).astype(np.float32)


def alpha_bars() -> np.ndarray:
    betas = np.linspace(1e-4, 0.02, 1000, dtype=np.float64)
    return np.cumprod(1 - betas).astype(np.float32)


def build(param: str) -> onnx.ModelProto:
    mu = prior_mean()
    inits = [
        numpy_helper.from_array(alpha_bars(), 'abar'),
        numpy_helper.from_array(mu[None], 'mu'),
        numpy_helper.from_array(np.array([-1, 1, 1, 1], dtype=np.int64), 'shape4'),
        numpy_helper.from_array(np.array(1.0, dtype=np.float32), 'one'),
        numpy_helper.from_array(np.array(STD * STD, dtype=np.float32), 's2'),
    ]
    n = helper.make_node
    nodes = [
        n('Gather', ['abar', 't'], ['ab_n']),
        n('Reshape', ['ab_n', 'shape4'], ['ab']),
        n('Sqrt', ['ab'], ['sa']),
        n('Sub', ['one', 'ab'], ['omab']),
        n('Sqrt', ['omab'], ['sb']),
        n('Mul', ['ab', 's2'], ['ab_s2']),
        n('Add', ['ab_s2', 'omab'], ['var']),
        n('Mul', ['sa', 's2'], ['sa_s2']),
        n('Div', ['sa_s2', 'var'], ['c']),
        n('Mul', ['sa', 'mu'], ['sa_mu']),
        n('Sub', ['x', 'sa_mu'], ['dev']),
        n('Mul', ['c', 'dev'], ['c_dev']),
        n('Add', ['mu', 'c_dev'], ['x0']),
        n('Mul', ['sa', 'x0'], ['sa_x0']),
        n('Sub', ['x', 'sa_x0'], ['num']),
        n('Div', ['num', 'sb'], ['eps']),
    ]
    if param == 'eps':
        nodes.append(n('Identity', ['eps'], ['out']))
    elif param == 'x0':
        nodes.append(n('Identity', ['x0'], ['out']))
    else:
        nodes += [n('Mul', ['sa', 'eps'], ['sa_eps']), n('Mul', ['sb', 'x0'], ['sb_x0']), n('Sub', ['sa_eps', 'sb_x0'], ['out'])]
    graph = helper.make_graph(
        nodes, f'gaussian_{param}',
        [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['N', C, H, W]),
         helper.make_tensor_value_info('t', TensorProto.INT64, ['N'])],
        [helper.make_tensor_value_info('out', TensorProto.FLOAT, ['N', C, H, W])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)], producer_name='lagrange-tools')
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main() -> None:
    for param in ['eps', 'x0', 'v']:
        d = os.path.join(OUT, f'gaussian-{param}')
        os.makedirs(d, exist_ok=True)
        onnx.save(build(param), os.path.join(d, 'model.onnx'))
        write_model_card(
            d, name=f'gaussian-{param}',
            description=f'Test fixture: the analytic Gaussian prior N(mu, {STD}^2 I) on {C}x{H}x{W}, {param}-parameterised',
            dataset='none (analytic)', license='MIT',
            training='not trained: closed-form graph written by tools/export/gaussian_prior_onnx.py',
            channels=C, height=H, width=W, parameterization=param, prediction='out')
        print('wrote', d)


if __name__ == '__main__':
    main()
