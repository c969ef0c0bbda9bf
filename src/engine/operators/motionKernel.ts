/**
 * Random camera-shake blur kernels — this project's own model (not a port of any library).
 *
 * The camera path is a planar random walk with momentum, sampled at T = 96 equal time steps of the
 * exposure. Per step t, with i = intensity ∈ [0, 1] and ε's independent N(0, 1):
 *
 *   ω_t = 0.9·ω_{t−1} + 0.04·i·ε¹_t                       turning rate (momentum: turns persist)
 *   θ_t = θ_{t−1} + ω_t + J_t,  θ_0 ~ U[0, 2π)            heading, plus rare jerks J_t
 *   J_t = ±(π/4 + π/2·u_t) with probability 0.03·i²      (sudden re-aiming of the hand)
 *   ℓ_t = 0.9·ℓ_{t−1} + 0.3·i·ε²_t,  s_t = exp(ℓ_t)      log-speed (dwell points get more light)
 *   p_{t+1} = p_t + s_t·(cos θ_t, sin θ_t) + 0.3·i·(ε³_t, ε⁴_t)   position, with tremor
 *
 * so i = 0 is a straight uniform line in a random direction, and every kind of deviation grows with
 * i. Every step draws the same numbers whatever i is, so one seed gives one family of paths and i
 * only sets how far they depart from the line. The path is scaled to arc length 0.75·(k − 1) px
 * (trajectory length ∝ kernel size), each step's equal share of exposure is spread over sub-points
 * ≤ 0.25 px apart, the light's centre of mass is moved to the kernel centre (and the path shrunk
 * about it if it would leave the k×k box), and the points are splatted bilinearly. Bilinear
 * splatting preserves the centre of mass exactly, so the kernel is centred to rounding.
 */
import type { Rng } from '../tensor/rng';

const STEPS = 96;
const TURN_MOMENTUM = 0.9;
const TURN_NOISE = 0.04;
const JERK_RATE = 0.03;
const SPEED_MOMENTUM = 0.9;
const SPEED_NOISE = 0.3;
const TREMOR = 0.3;
/** Arc length as a fraction of the kernel's diameter k − 1. */
const LENGTH_FRACTION = 0.75;
/** Largest gap between splatted points, in pixels (keeps the rasterised line continuous). */
const SUBSTEP = 0.25;

/** A sampled camera path: positions at the T + 1 step boundaries, in arbitrary units. */
export interface MotionTrajectory {
  readonly x: Float64Array;
  readonly y: Float64Array;
}

/**
 * p_{t+1} = p_t + s_t(cos θ_t, sin θ_t) + tremor: the momentum random walk of the module doc,
 * T = 96 steps, starting at the origin; x is the column direction, y the row direction.
 * @param intensity - i ∈ [0, 1]; 0 gives a straight line
 */
export function motionTrajectory(intensity: number, rng: Rng): MotionTrajectory {
  if (!(intensity >= 0 && intensity <= 1)) throw new RangeError(`motion kernel: intensity must be in [0, 1], got ${intensity}`);
  const i = intensity;
  const x = new Float64Array(STEPS + 1),
    y = new Float64Array(STEPS + 1);
  let theta = 2 * Math.PI * rng.uniform();
  let omega = 0,
    logSpeed = 0;
  for (let t = 0; t < STEPS; t++) {
    // Draw everything every step, so the stream does not depend on the intensity.
    const e1 = rng.normal(),
      e2 = rng.normal(),
      e3 = rng.normal(),
      e4 = rng.normal();
    const jerkDraw = rng.uniform(),
      jerkSize = rng.uniform();
    omega = TURN_MOMENTUM * omega + TURN_NOISE * i * e1;
    theta += omega;
    if (jerkDraw < JERK_RATE * i * i) theta += (jerkSize < 0.5 ? -1 : 1) * (Math.PI / 4 + Math.PI * Math.abs(jerkSize - 0.5));
    logSpeed = SPEED_MOMENTUM * logSpeed + SPEED_NOISE * i * e2;
    const s = Math.exp(logSpeed);
    x[t + 1] = x[t]! + s * Math.cos(theta) + TREMOR * i * e3;
    y[t + 1] = y[t]! + s * Math.sin(theta) + TREMOR * i * e4;
  }
  return { x, y };
}

/**
 * K = bilinear splat of a random camera-shake path (see the module doc), k×k row-major
 * (K[row·k + col]), non-negative, Σ K = 1, centre of mass at (r, r), r = (k − 1)/2.
 * @param k - odd kernel side
 * @param intensity - i ∈ [0, 1]: 0 is a straight line through the centre, larger is shakier
 * @param rng - the only source of randomness: the same stream state gives the same kernel
 */
export function motionKernel(k: number, intensity: number, rng: Rng): Float32Array {
  if (!Number.isInteger(k) || k < 1 || k % 2 !== 1) throw new RangeError(`motion kernel: size must be odd, got ${k}`);
  const traj = motionTrajectory(intensity, rng);
  const out = new Float32Array(k * k);
  if (k === 1) {
    out[0] = 1;
    return out;
  }
  const r = (k - 1) / 2;
  let arc = 0;
  for (let t = 0; t < STEPS; t++) arc += Math.hypot(traj.x[t + 1]! - traj.x[t]!, traj.y[t + 1]! - traj.y[t]!);
  const unit = arc > 0 ? (LENGTH_FRACTION * (k - 1)) / arc : 0;

  // Sub-points at equal time spacing within each step: slow steps pile light up, as in a real exposure.
  const px: number[] = [],
    py: number[] = [],
    pw: number[] = [];
  for (let t = 0; t < STEPS; t++) {
    const x0 = traj.x[t]! * unit,
      y0 = traj.y[t]! * unit;
    const dx = traj.x[t + 1]! * unit - x0,
      dy = traj.y[t + 1]! * unit - y0;
    const sub = Math.max(1, Math.ceil(Math.hypot(dx, dy) / SUBSTEP));
    for (let j = 0; j < sub; j++) {
      const f = (j + 0.5) / sub;
      px.push(x0 + f * dx);
      py.push(y0 + f * dy);
      pw.push(1 / (STEPS * sub));
    }
  }
  let cx = 0,
    cy = 0,
    total = 0;
  for (let j = 0; j < px.length; j++) {
    cx += pw[j]! * px[j]!;
    cy += pw[j]! * py[j]!;
    total += pw[j]!;
  }
  cx /= total;
  cy /= total;
  // Shrink about the centre of mass if the path would leave the box (keeps the centre of mass).
  let extent = 0;
  for (let j = 0; j < px.length; j++) extent = Math.max(extent, Math.abs(px[j]! - cx), Math.abs(py[j]! - cy));
  const fit = extent > r ? r / extent : 1;

  const acc = new Float64Array(k * k);
  for (let j = 0; j < px.length; j++) {
    const u = r + (px[j]! - cx) * fit,
      v = r + (py[j]! - cy) * fit;
    // Clamp the cell so a point on the far edge splats with weight 1 onto the last pixel.
    const c0 = Math.min(k - 2, Math.max(0, Math.floor(u))),
      r0 = Math.min(k - 2, Math.max(0, Math.floor(v)));
    const fu = u - c0,
      fv = v - r0,
      wt = pw[j]!;
    acc[r0 * k + c0] = acc[r0 * k + c0]! + wt * (1 - fu) * (1 - fv);
    acc[r0 * k + c0 + 1] = acc[r0 * k + c0 + 1]! + wt * fu * (1 - fv);
    acc[(r0 + 1) * k + c0] = acc[(r0 + 1) * k + c0]! + wt * (1 - fu) * fv;
    acc[(r0 + 1) * k + c0 + 1] = acc[(r0 + 1) * k + c0 + 1]! + wt * fu * fv;
  }
  let sum = 0;
  for (let t = 0; t < acc.length; t++) sum += acc[t]!;
  for (let t = 0; t < acc.length; t++) out[t] = Math.max(0, acc[t]! / sum);
  return out;
}
