"""The text/class-conditioned transformer of latent diffusion UNets: CompVis `SpatialTransformer`
and diffusers `Transformer2DModel` share one layout and one set of parameter names:

  norm (GroupNorm 32, eps 1e-6), proj_in (1x1 conv, or Linear with use_linear), transformer_blocks.D
  (norm1, attn1 self-attention, norm2, attn2 cross-attention on the context, norm3, ff.net.0.proj
  GEGLU and ff.net.2), proj_out; residual around the whole.
  attention: to_q, to_k, to_v (no bias), to_out.0 (with bias).

Attention is written with batched matmuls and constant scales (no einsum, no fused attention), so
the ONNX graph runs on every provider and the engine's autodiff can differentiate it.
"""
import torch
from torch import nn
import torch.nn.functional as F


class Attention(nn.Module):
    """Multi-head attention of the query tokens on themselves (context None) or on the context."""

    def __init__(self, query_dim, heads, dim_head, context_dim=None):
        super().__init__()
        inner = heads * dim_head
        self.heads, self.dim_head, self.scale = heads, dim_head, dim_head ** -0.5
        self.to_q = nn.Linear(query_dim, inner, bias=False)
        self.to_k = nn.Linear(context_dim or query_dim, inner, bias=False)
        self.to_v = nn.Linear(context_dim or query_dim, inner, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(inner, query_dim)])

    def split(self, t):
        n = t.shape[0]
        return t.reshape(n, -1, self.heads, self.dim_head).permute(0, 2, 1, 3).reshape(n * self.heads, -1, self.dim_head)

    def forward(self, x, context=None):
        ctx = x if context is None else context
        q, k, v = self.split(self.to_q(x)), self.split(self.to_k(ctx)), self.split(self.to_v(ctx))
        w = torch.softmax(torch.bmm(q * self.scale, k.transpose(1, 2)), dim=-1)
        a = torch.bmm(w, v)  # [N*heads, T, dim_head]
        n = x.shape[0]
        a = a.reshape(n, self.heads, -1, self.dim_head).permute(0, 2, 1, 3).reshape(n, -1, self.heads * self.dim_head)
        return self.to_out[0](a)


class GEGLU(nn.Module):
    def __init__(self, dim, inner):
        super().__init__()
        self.proj = nn.Linear(dim, 2 * inner)

    def forward(self, x):
        h, gate = self.proj(x).chunk(2, dim=-1)
        return h * F.gelu(gate)


class FeedForward(nn.Module):
    """net.0 = GEGLU(dim -> 4 dim), net.1 = dropout (no parameters), net.2 = Linear(4 dim -> dim)."""

    def __init__(self, dim, mult=4):
        super().__init__()
        self.net = nn.ModuleList([GEGLU(dim, mult * dim), nn.Identity(), nn.Linear(mult * dim, dim)])

    def forward(self, x):
        return self.net[2](self.net[0](x))


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, heads, dim_head, context_dim):
        super().__init__()
        self.norm1, self.attn1 = nn.LayerNorm(dim), Attention(dim, heads, dim_head)
        self.norm2, self.attn2 = nn.LayerNorm(dim), Attention(dim, heads, dim_head, context_dim)
        self.norm3, self.ff = nn.LayerNorm(dim), FeedForward(dim)

    def forward(self, x, context):
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), context) + x
        return self.ff(self.norm3(x)) + x


class SpatialTransformer(nn.Module):
    """[N, C, H, W] -> same, attending to context [N or 1, L, context_dim]."""

    def __init__(self, channels, heads, dim_head, depth, context_dim, use_linear=False, groups=32):
        super().__init__()
        inner = heads * dim_head
        self.channels, self.inner, self.use_linear = channels, inner, use_linear
        self.norm = nn.GroupNorm(groups, channels, eps=1e-6)
        self.proj_in = nn.Linear(channels, inner) if use_linear else nn.Conv2d(channels, inner, 1)
        self.transformer_blocks = nn.ModuleList(
            [BasicTransformerBlock(inner, heads, dim_head, context_dim) for _ in range(depth)])
        self.proj_out = nn.Linear(inner, channels) if use_linear else nn.Conv2d(inner, channels, 1)

    def forward(self, x, context):
        n, hgt, wid = x.shape[0], x.shape[2], x.shape[3]
        h = self.norm(x)
        if not self.use_linear:
            h = self.proj_in(h)
        h = h.permute(0, 2, 3, 1).reshape(n, hgt * wid, -1)
        if self.use_linear:
            h = self.proj_in(h)
        context = context.expand(n, -1, -1)  # one fixed context [1, L, D] serves the whole batch
        for block in self.transformer_blocks:
            h = block(h, context)
        if self.use_linear:
            h = self.proj_out(h)
        h = h.reshape(n, hgt, wid, -1).permute(0, 3, 1, 2)
        if not self.use_linear:
            h = self.proj_out(h)
        return x + h
