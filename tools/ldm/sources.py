"""The three ways the exporter gets its networks, each returning one `Source`: a CompVis LDM
checkpoint with its YAML config, a diffusers Stable Diffusion folder, or random weights of those
architectures (tests). `save_source` writes random networks back in the published layouts, so the
loading paths can be tested without downloads."""
import json
import os
from dataclasses import dataclass, field

import numpy as np
import torch

from ldm.compvis_autoencoder import FirstStage, first_stage_config
from ldm.diffusers_unet import DiffusersUNet, sd_unet_config
from ldm.diffusers_vae import DiffusersVAE, sd_vae_config
from ldm.openai_unet import LDMUNet, ldm_unet_config
from ldm import weights as W

PARAMETERIZATIONS = {'eps': 'eps', 'x0': 'x0', 'v': 'v', 'epsilon': 'eps', 'sample': 'x0', 'v_prediction': 'v'}
SD_TEXT_TOKENS = 77  # CLIP's context length


@dataclass
class Source:
    autoencoder: torch.nn.Module  # .encode(x) -> raw latent, .decode(z) -> image
    unet: torch.nn.Module  # (x, t[, context]) -> prediction
    kind: str  # 'vq' or 'kl'
    factor: int  # image side / latent side
    latent_channels: int
    scale: float
    schedule: dict  # the card's schedule
    alpha_bars: np.ndarray
    parameterization: str
    image_size: int
    described: str  # where the weights came from, for the cards
    context: torch.Tensor = None  # fixed conditioning [1, L, D], or None
    conditioning: str = 'unconditional'
    notes: list = field(default_factory=list)


def ldm_schedule(kind, start, end, T):
    """The card schedule and float64 alpha-bar table. CompVis 'linear' is linear in sqrt(beta)
    (diffusers calls it scaled_linear); CompVis 'sqrt_linear' and diffusers 'linear' are linear in beta."""
    if kind in ('linear', 'scaled_linear'):
        betas = np.linspace(start ** 0.5, end ** 0.5, T, dtype=np.float64) ** 2
        ab = np.cumprod(1 - betas)
        return {'kind': 'table', 'alphaBars': [float(a) for a in ab]}, ab
    if kind in ('sqrt_linear', 'true_linear'):
        ab = np.cumprod(1 - np.linspace(start, end, T, dtype=np.float64))
        return {'kind': 'linear', 'T': T, 'betaMin': start, 'betaMax': end}, ab
    raise SystemExit(f"beta schedule '{kind}' is not supported (linear / scaled_linear / sqrt_linear)")


def read_context(path, dim, what):
    """The fixed conditioning: a .npy of [L, D] or [1, L, D], or zeros [1, 77, D] when path is None."""
    if path is None:
        return torch.zeros(1, SD_TEXT_TOKENS, dim), f'{what}: a zero embedding [1, {SD_TEXT_TOKENS}, {dim}] (not CLIP\'s empty prompt; pass --null-text FILE.npy for that)'
    a = np.load(path).astype(np.float32)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or a.shape[0] != 1 or a.shape[2] != dim:
        raise SystemExit(f'--null-text {path}: shape {list(a.shape)}, expected [L, {dim}] or [1, L, {dim}]')
    return torch.from_numpy(a), f'{what}: the embedding in {os.path.basename(path)} {list(a.shape)}'


def from_ldm(args):
    cfg = W.read_yaml(args.config)
    try:
        params = cfg['model']['params']
        fs, uc = params['first_stage_config'], params['unet_config']
    except (KeyError, TypeError):
        raise SystemExit(f'{args.config}: expected model.params.first_stage_config and unet_config (a latent-diffusion config)')
    target = fs.get('target', '')
    kind = 'vq' if 'VQ' in target else 'kl' if 'AutoencoderKL' in target else None
    if kind is None:
        raise SystemExit(f'{args.config}: first_stage_config.target {target!r}: expected a VQModel(Interface) or AutoencoderKL')
    fp = fs['params']
    ae = FirstStage(kind, fp['ddconfig'], fp['embed_dim'], fp.get('n_embed'))
    unet = LDMUNet(**uc['params'])
    sd = W.read_tensors(args.ckpt, args.unsafe_pickle)
    ae_sd = {k: v for k, v in W.sub_dict(sd, 'first_stage_model.').items() if not k.startswith('loss.')}
    W.load_strict(ae, ae_sd, f'{args.ckpt} first_stage_model.*', f'first stage {kind} from {target}')
    unet_sd = W.sub_dict(sd, 'model.diffusion_model.')
    if args.ema:
        unet_sd = W.ema_weights(sd, unet)
        if unet_sd is None:
            raise SystemExit(f'{args.ckpt}: --ema, but the checkpoint has no model_ema.* weights')
    W.load_strict(unet, unet_sd, f'{args.ckpt} model.diffusion_model.*')
    src_notes = []
    context, conditioning = None, 'unconditional'
    key = params.get('conditioning_key')
    cond = params.get('cond_stage_config')
    if unet.context_dim is not None:
        if key not in (None, 'crossattn'):
            raise SystemExit(f'{args.config}: conditioning_key {key!r}: only crossattn (or unconditional) models can be exported')
        if isinstance(cond, dict) and 'ClassEmbedder' in cond.get('target', ''):
            if args.class_label is None:
                raise SystemExit('class-conditional LDM: pass --class-label K (the ImageNet LDM: 1000 is its unconditional class)')
            table = sd.get('cond_stage_model.embedding.weight')
            if table is None or not 0 <= args.class_label < table.shape[0]:
                raise SystemExit(f'--class-label {args.class_label}: the checkpoint has cond_stage_model.embedding.weight '
                                 f'{list(table.shape) if table is not None else "missing"}')
            context, conditioning = table[args.class_label][None, None].clone(), f'class {args.class_label} fixed (its cond_stage_model embedding)'
        else:
            context, conditioning = read_context(args.null_text, unet.context_dim, 'text-conditioned UNet exported unconditionally with a fixed context')
    elif key not in (None, 'crossattn') and cond not in (None, '__is_unconditional__'):
        raise SystemExit(f'{args.config}: conditioning_key {key!r} with a conditioning stage is not supported')
    if 'scale_factor' in sd:
        scale = float(sd['scale_factor'])  # scale_by_std models store the value they measured
    else:
        scale = float(params.get('scale_factor', 1.0))
    schedule, ab = ldm_schedule(params.get('beta_schedule', 'linear'), params.get('linear_start', 1e-4),
                                params.get('linear_end', 2e-2), params.get('timesteps', 1000))
    factor = 2 ** (len(fp['ddconfig']['ch_mult']) - 1)
    latent_side = uc['params'].get('image_size', fp['ddconfig']['resolution'] // factor)
    par = PARAMETERIZATIONS.get(params.get('parameterization', 'eps'))
    if par is None:
        raise SystemExit(f"{args.config}: parameterization {params['parameterization']!r}: expected eps, x0 or v")
    return Source(ae, unet, kind, factor, fp['embed_dim'], scale, schedule, ab, par, args.image_size or latent_side * factor,
                  f'converted from {os.path.basename(args.ckpt)} ({W.sha_prefix(args.ckpt)}...) with {os.path.basename(args.config)}'
                  + (', EMA weights' if args.ema else ''), context, conditioning, src_notes)


def from_diffusers(args):
    root = args.diffusers
    vae_cfg, unet_cfg = W.read_json(os.path.join(root, 'vae', 'config.json')), W.read_json(os.path.join(root, 'unet', 'config.json'))
    sch_file = next((p for p in (os.path.join(root, 'scheduler', n) for n in ('scheduler_config.json', 'config.json')) if os.path.isfile(p)), None)
    sch = W.read_json(sch_file or os.path.join(root, 'scheduler', 'scheduler_config.json'))
    ae, unet = DiffusersVAE(vae_cfg), DiffusersUNet(unet_cfg)
    vae_file, unet_file = W.find_weights(os.path.join(root, 'vae')), W.find_weights(os.path.join(root, 'unet'))
    W.load_strict(ae, W.rename_vae_keys(W.read_tensors(vae_file, args.unsafe_pickle)), vae_file)
    W.load_strict(unet, W.read_tensors(unet_file, args.unsafe_pickle), unet_file)
    if sch.get('trained_betas') is not None:
        ab = np.cumprod(1 - np.asarray(sch['trained_betas'], dtype=np.float64))
        schedule = {'kind': 'table', 'alphaBars': [float(a) for a in ab]}
    else:
        kind = {'linear': 'true_linear'}.get(sch.get('beta_schedule', 'linear'), sch.get('beta_schedule'))
        schedule, ab = ldm_schedule(kind, sch.get('beta_start', 1e-4), sch.get('beta_end', 2e-2), sch.get('num_train_timesteps', 1000))
    par = PARAMETERIZATIONS.get(sch.get('prediction_type', 'epsilon'))
    if par is None:
        raise SystemExit(f"{sch_file}: prediction_type {sch['prediction_type']!r}: expected epsilon, sample or v_prediction")
    factor = 2 ** (len(vae_cfg['block_out_channels']) - 1)
    context, conditioning = read_context(args.null_text, unet_cfg['cross_attention_dim'], 'text-conditioned UNet exported unconditionally with a fixed context')
    return Source(ae, unet, 'kl', factor, vae_cfg['latent_channels'], float(vae_cfg.get('scaling_factor', 0.18215)), schedule, ab, par,
                  args.image_size or unet_cfg.get('sample_size', 64) * factor,
                  f'converted from the diffusers folder {os.path.basename(os.path.normpath(root))} '
                  f'(vae {W.sha_prefix(vae_file)}..., unet {W.sha_prefix(unet_file)}...)', context, conditioning)


def random_init(args):
    """Random weights of the published architectures (tests only: not a usable prior)."""
    torch.manual_seed(args.seed)
    tiny = args.tiny
    if args.random_init in ('ldm-vq4', 'ldm-kl8'):
        kind = 'vq' if args.random_init == 'ldm-vq4' else 'kl'
        fc = first_stage_config(kind, tiny)
        uc = ldm_unet_config('vq4' if kind == 'vq' else 'kl8', tiny)
        ae, unet = FirstStage(**fc), LDMUNet(**uc)
        factor = 2 ** (len(fc['ddconfig']['ch_mult']) - 1)
        schedule, ab = ldm_schedule('linear', 0.0015, 0.0195, 1000)
        src = Source(ae, unet, kind, factor, fc['embed_dim'], 1.0 if kind == 'vq' else 0.18215, schedule, ab, 'eps',
                     args.image_size or uc['image_size'] * factor, '')
        src.configs = {'first_stage': fc, 'unet': uc}
    else:
        vc, uc = sd_vae_config(tiny), sd_unet_config(tiny)
        ae, unet = DiffusersVAE(vc), DiffusersUNet(uc)
        factor = 2 ** (len(vc['block_out_channels']) - 1)
        schedule, ab = ldm_schedule('scaled_linear', 0.00085, 0.012, 1000)
        context, conditioning = read_context(args.null_text, uc['cross_attention_dim'], 'text-conditioned UNet exported unconditionally with a fixed context')
        src = Source(ae, unet, 'kl', factor, vc['latent_channels'], vc['scaling_factor'], schedule, ab, 'eps',
                     args.image_size or uc['sample_size'] * factor, '', context, conditioning)
        src.configs = {'vae': vc, 'unet': uc}
    src.described = (f"random initialisation (seed {args.seed}) of the {args.random_init} architecture"
                     f"{' at test size (--tiny)' if tiny else ''}, for tests only: not a usable prior")
    return src


def save_source(src, args, folder):
    """Writes a random-init network in its published layout: model.ckpt + config.yaml (LDM) or a
    diffusers folder (vae/, unet/, scheduler/ with configs and safetensors weights)."""
    os.makedirs(folder, exist_ok=True)
    if args.random_init.startswith('ldm'):
        fc, uc = src.configs['first_stage'], src.configs['unet']
        sd = {f'first_stage_model.{k}': v for k, v in src.autoencoder.state_dict().items()}
        sd.update({f'model.diffusion_model.{k}': v for k, v in src.unet.state_dict().items()})
        sd['scale_factor'] = torch.tensor(src.scale)
        torch.save({'state_dict': sd}, os.path.join(folder, 'model.ckpt'))
        target = 'ldm.models.autoencoder.VQModelInterface' if fc['kind'] == 'vq' else 'ldm.models.autoencoder.AutoencoderKL'
        fsp = {k: v for k, v in fc.items() if k != 'kind'}
        fsp['lossconfig'] = {'target': 'torch.nn.Identity'}
        cfg = {'model': {'target': 'ldm.models.diffusion.ddpm.LatentDiffusion', 'params': {
            'linear_start': 0.0015, 'linear_end': 0.0195, 'timesteps': 1000, 'image_size': uc['image_size'],
            'channels': uc['in_channels'], 'cond_stage_config': '__is_unconditional__',
            'unet_config': {'target': 'ldm.modules.diffusionmodules.openaimodel.UNetModel', 'params': uc},
            'first_stage_config': {'target': target, 'params': fsp}}}}
        import yaml
        with open(os.path.join(folder, 'config.yaml'), 'w') as f:
            yaml.safe_dump(cfg, f, sort_keys=False)
        return
    for sub, net, cfg in (('vae', src.autoencoder, src.configs['vae']), ('unet', src.unet, src.configs['unet'])):
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
        with open(os.path.join(folder, sub, 'config.json'), 'w') as f:
            json.dump(cfg, f, indent=2)
        W.write_safetensors(os.path.join(folder, sub, 'diffusion_pytorch_model.safetensors'), net.state_dict())
    os.makedirs(os.path.join(folder, 'scheduler'), exist_ok=True)
    with open(os.path.join(folder, 'scheduler', 'scheduler_config.json'), 'w') as f:
        json.dump({'num_train_timesteps': 1000, 'beta_start': 0.00085, 'beta_end': 0.012, 'beta_schedule': 'scaled_linear',
                   'prediction_type': 'epsilon'}, f, indent=2)
