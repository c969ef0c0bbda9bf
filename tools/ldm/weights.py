"""Reading the published files: CompVis checkpoints (.ckpt / .pt, plain tensor pickles read with
weights_only), safetensors (read here with numpy: the format is an 8-byte header length, a JSON
header and raw little-endian tensors), diffusers `*.bin`, LDM YAML configs; and strict loading
with every missing, unexpected and mis-shaped key listed.
"""
import json
import os
import struct

import numpy as np
import torch

SAFETENSORS_DTYPES = {'F32': np.float32, 'F16': np.float16, 'F64': np.float64, 'I64': np.int64, 'I32': np.int32,
                      'U8': np.uint8, 'BOOL': np.bool_}


def read_safetensors(path):
    with open(path, 'rb') as f:
        (n,) = struct.unpack('<Q', f.read(8))
        header = json.loads(f.read(n))
        base = 8 + n
    data = np.memmap(path, dtype=np.uint8, mode='r')
    out = {}
    for name, meta in header.items():
        if name == '__metadata__':
            continue
        dtype = meta['dtype']
        if dtype == 'BF16':  # numpy has no bfloat16: widen the 16 bits to float32's upper half
            a, b = meta['data_offsets']
            raw = np.frombuffer(data[base + a:base + b], dtype=np.uint16).astype(np.uint32) << 16
            out[name] = torch.from_numpy(raw.view(np.float32).reshape(meta['shape']).copy())
            continue
        if dtype not in SAFETENSORS_DTYPES:
            raise SystemExit(f'{path}: tensor {name} has dtype {dtype}, which this reader does not handle')
        a, b = meta['data_offsets']
        arr = np.frombuffer(data[base + a:base + b], dtype=SAFETENSORS_DTYPES[dtype]).reshape(meta['shape'])
        out[name] = torch.from_numpy(arr.copy())
    return out


def read_tensors(path, unsafe=False):
    """A flat {name: float32 tensor} from a .safetensors, .ckpt, .pt or .bin file; Lightning's
    {'state_dict': ...} wrapper is removed. Non-tensor entries are dropped."""
    if not os.path.isfile(path):
        raise SystemExit(f'{path}: no such file')
    if path.endswith('.safetensors'):
        obj = read_safetensors(path)
    else:
        try:
            obj = torch.load(path, map_location='cpu', weights_only=not unsafe)
        except Exception as e:  # noqa: BLE001 - UnpicklingError or RuntimeError, depending on the file
            raise SystemExit(f'{path}: cannot be read as a plain tensor state dict ({str(e).splitlines()[0]}); '
                             'if you trust the file, retry with --unsafe-pickle')
        if isinstance(obj, dict) and isinstance(obj.get('state_dict'), dict):
            obj = obj['state_dict']
    if not isinstance(obj, dict):
        raise SystemExit(f'{path}: holds a {type(obj).__name__}, not a state dict')
    return {k: (v.float() if v.is_floating_point() else v) for k, v in obj.items() if torch.is_tensor(v)}


def sub_dict(sd, prefix):
    return {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}


def ema_weights(sd, model, prefix='model_ema.diffusion_model'):
    """The EMA copy LatentDiffusion keeps under model_ema.*, whose names are the parameter names
    with the dots removed; None when the checkpoint has none."""
    if not any(k.startswith(prefix) for k in sd):
        return None
    return {name: sd[prefix + name.replace('.', '')] for name in model.state_dict() if prefix + name.replace('.', '') in sd}


# Older diffusers VAE checkpoints name the mid-block attention projections differently.
VAE_RENAMES = {'.query.': '.to_q.', '.key.': '.to_k.', '.value.': '.to_v.', '.proj_attn.': '.to_out.0.'}


def rename_vae_keys(sd):
    out = {}
    for k, v in sd.items():
        for old, new in VAE_RENAMES.items():
            if 'attentions' in k and old in k:
                k = k.replace(old, new)
        out[k] = v
    return out


def load_strict(model, sd, what, hint=''):
    """model.load_state_dict(sd, strict=True), or SystemExit listing what does not match."""
    own = model.state_dict()
    missing = [k for k in own if k not in sd]
    unexpected = [k for k in sd if k not in own]
    shapes = [f'{k}: file {list(sd[k].shape)}, config {list(own[k].shape)}' for k in own if k in sd and sd[k].shape != own[k].shape]
    if missing or unexpected or shapes:
        def listing(title, items):
            return f'  {title} ({len(items)}): ' + ', '.join(items[:8]) + (' ...' if len(items) > 8 else '') if items else None
        lines = [f'{what} does not match its config:', listing('missing keys', missing),
                 listing('unexpected keys', unexpected), listing('shape mismatches', shapes), hint and f'  hint: {hint}']
        raise SystemExit('\n'.join(line for line in lines if line))
    model.load_state_dict(sd, strict=True)


def read_yaml(path):
    try:
        import yaml
    except ImportError:
        raise SystemExit('reading an LDM config needs PyYAML (Debian: python3-yaml)')
    with open(path) as f:
        return yaml.safe_load(f)


def read_json(path):
    if not os.path.isfile(path):
        raise SystemExit(f'{path}: no such file (a diffusers folder has vae/, unet/ and scheduler/ configs)')
    with open(path) as f:
        return json.load(f)


def find_weights(folder):
    """The weights file of a diffusers component folder (safetensors preferred, fp32 before fp16)."""
    for name in ('diffusion_pytorch_model.safetensors', 'diffusion_pytorch_model.bin',
                 'diffusion_pytorch_model.fp16.safetensors', 'diffusion_pytorch_model.fp16.bin'):
        if os.path.isfile(os.path.join(folder, name)):
            return os.path.join(folder, name)
    raise SystemExit(f'{folder}: no diffusion_pytorch_model.safetensors or .bin')


def write_safetensors(path, sd):
    """The inverse of read_safetensors for float32 tensors (used to build test folders)."""
    header, offset, blobs = {}, 0, []
    for name, t in sd.items():
        b = t.detach().float().contiguous().numpy().tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def sha_prefix(path):
    import hashlib
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 22), b''):
            h.update(chunk)
    return h.hexdigest()[:16]
