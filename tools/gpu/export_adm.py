#!/usr/bin/env python3
"""tools/export_guided_diffusion.py with the TorchScript ONNX exporter on any torch version.

  python3 tools/gpu/export_adm.py --random-init --config ffhq256 --image-size 256 --out DIR --no-check

Same arguments as the export. From torch 2.9 torch.onnx.export defaults to the dynamo exporter,
which needs onnxscript and treats dynamic_axes differently; the export was written and checked
with the TorchScript one, so this asks for it (dynamo=False) where the keyword exists.
"""
import inspect
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import export_guided_diffusion  # noqa: E402

if 'dynamo' in inspect.signature(torch.onnx.export).parameters:
    _export = torch.onnx.export

    def _torchscript_export(*args, **kwargs):
        kwargs.setdefault('dynamo', False)
        return _export(*args, **kwargs)

    torch.onnx.export = _torchscript_export

if __name__ == '__main__':
    export_guided_diffusion.main()
