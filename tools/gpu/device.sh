#!/usr/bin/env bash
# The GPU check, run in the repository root of the device machine with gpu-check/ carried
# (prepared by `npm run gpu:check`). Every step writes its output under $OUT as soon as it ends, so
# a run cut by the time budget still returns what was measured; gpu-table.md is rewritten after each.
#   bash tools/gpu/device.sh                  WebGPU + PyTorch on CUDA, ADM UNets at 64 and 256 px
#   GPU_CHECK_DRY=1 bash tools/gpu/device.sh  CPU rehearsal: CPU provider, bundled fmnist-32 prior
# Environment: OUT (default gpu-check/out), GPU_CHECK_BUDGET_S (540; dry 120), GPU_CHECK_DIR
# (gpu-check), LAGRANGE_PYTHON (the first python3 that imports torch and onnx).
set -u
REPO=$(pwd)
DRY=${GPU_CHECK_DRY:-0}
PACK=${GPU_CHECK_DIR:-$REPO/gpu-check}
OUT=${OUT:-$PACK/out}
BUDGET=${GPU_CHECK_BUDGET_S:-$([ "$DRY" = 1 ] && echo 120 || echo 540)}
END=$((SECONDS + BUDGET))
mkdir -p "$OUT"
LOG=$OUT/steps.log
W=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check-XXXXXX")
trap 'rm -rf "$W"' EXIT
left() { echo $((END - SECONDS)); }
log() { echo "[$((SECONDS))s] $*" | tee -a "$LOG" >&2; }
# step NAME RESERVE_S CMD...: runs CMD with what is left minus RESERVE_S, output to $OUT/NAME.txt.
step() {
  local name=$1 reserve=$2 t
  shift 2
  t=$(($(left) - reserve))
  if [ "$t" -lt 5 ]; then log "$name: skipped, $(left) s left"; return 1; fi
  timeout "$t" "$@" >"$OUT/$name.txt" 2>&1
  local rc=$?
  log "$name: exit $rc"
  return $rc
}

# Unpack: xz where installed, else Python's lzma (a plain Debian may lack xz-utils).
unxz_to() { if command -v xz >/dev/null; then xz -dc "$1" >"$2"; else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi; }
mkdir -p "$W/bin"
unxz_to "$PACK/node.xz" "$W/bin/node" && chmod +x "$W/bin/node" || { log "unpack: node.xz failed"; exit 1; }
for t in runtime payload; do
  unxz_to "$PACK/$t.tar.xz" "$W/$t.tar" && tar -xf "$W/$t.tar" -C "$W" && rm "$W/$t.tar" || { log "unpack: $t.tar.xz failed"; exit 1; }
done
ln -s "$REPO/resources" "$W/resources" # the engine finds its root as the folder above it holding resources/presets
NODE=$W/bin/node
export LD_LIBRARY_PATH=$W/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
log "unpacked into $W: $("$NODE" --version)"

# NVIDIA's Vulkan driver: its ICD file where the driver installed one, else one written for libGLX_nvidia.
ICD=$(ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json 2>/dev/null | head -1)
GLX=$(ldconfig -p 2>/dev/null | grep -o '/[^ ]*libGLX_nvidia.so.0' | head -1)
if [ -z "$ICD" ] && [ -n "$GLX" ]; then
  ICD=$W/nvidia_icd.json
  printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$GLX" >"$ICD"
fi
[ -n "$ICD" ] && export VK_ICD_FILENAMES=$ICD
{
  echo "nvidia-smi: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)"
  echo "NVIDIA_DRIVER_CAPABILITIES=${NVIDIA_DRIVER_CAPABILITIES:-unset}"
  echo "Vulkan ICD: ${ICD:-none found (no nvidia_icd.json, no libGLX_nvidia.so.0 on the library path)}"
  echo "NVIDIA libraries: $(ldconfig -p 2>/dev/null | grep -o 'lib[^ ]*nvidia[^ ]*' | sort -u | tr '\n' ' ')"
  echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) × $(nproc)"
} >"$OUT/env.txt" 2>&1
if [ "$DRY" = 1 ]; then echo "CPU dry run on$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) ($(nproc) CPUs), not a GPU" >"$OUT/device.txt"
else nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1 | sed 's/,/, driver/' >"$OUT/device.txt"; fi

PY=${LAGRANGE_PYTHON:-}
for p in python3 /usr/bin/python3; do [ -z "$PY" ] && "$p" -c 'import torch, onnx' 2>/dev/null && PY=$p; done
[ -z "$PY" ] && log "PyTorch: no python3 imports torch and onnx here; the PyTorch steps are skipped"
LAGRANGE="$NODE $W/lagrange.mjs"
BENCH="$NODE $W/engine/gpu-bench.mjs"
export GPU_CHECK_DEADLINE=$(($(date +%s%3N) + 1000 * ($(left) - 15)))
table() { $BENCH table --in "$OUT" >/dev/null 2>>"$LOG"; }

# The provider probe, the real one: open the bundled model on WebGPU (Dawn prints why on stderr).
step providers 15 $LAGRANGE models inspect fmnist-32
LAGRANGE_WEBGPU=probe step webgpu-probe 15 $LAGRANGE models check fmnist-32 --provider webgpu --json

if [ "$DRY" = 1 ]; then
  PROVIDER=cpu; DEVICE=cpu; SIZES=""
  step check-fmnist-32 15 $LAGRANGE models check fmnist-32 --provider cpu --json
  step rows-fmnist-32 30 $BENCH rows --prior fmnist-32 --label fmnist-32 --provider cpu --budget-ms 200 --max-iterations 8 --out "$OUT/rows-fmnist-32.jsonl"
  table
  if [ -n "$PY" ] && step bundle-fmnist-32 20 $BENCH bundle --prior fmnist-32 --provider cpu --out "$W/bundle-fmnist-32"; then
    step torch-fmnist-32 10 "$PY" tools/gpu/torch_loop.py --model resources/models/fmnist-32 --arch unet --bundle "$W/bundle-fmnist-32" --label fmnist-32 --device cpu --iterations 20 --forwards 5 && grep '^{' "$OUT/torch-fmnist-32.txt" >"$OUT/torch-fmnist-32.json"
  fi
else
  PROVIDER=webgpu; DEVICE=cuda; SIZES="64 256"
  [ -z "$PY" ] && { SIZES=""; log "no ADM models: exporting them needs PyTorch"; }
fi

# Random-init ADM UNets (FFHQ-256 configuration), exported here in the background: no weights travel.
for px in $SIZES; do
  [ -n "$PY" ] || break
  (timeout $(($(left) - 60)) "$PY" tools/gpu/export_adm.py --random-init --config ffhq256 --image-size "$px" --out "$W/adm-$px" --name "adm-random-$px" --no-check >"$OUT/export-$px.txt" 2>&1; echo $? >"$W/export-$px.rc") &
  wait $! # one at a time: two 93.6 M-parameter exports at once gain nothing on the CPU side
done &
for px in $SIZES; do
  while [ ! -f "$W/export-$px.rc" ] && [ "$(left)" -gt 20 ]; do sleep 1; done
  [ "$(cat "$W/export-$px.rc" 2>/dev/null)" = 0 ] || { log "adm-$px: export failed or unfinished (see export-$px.txt)"; continue; }
  M=$W/adm-$px
  if step bundle-adm-$px 60 $BENCH bundle --prior "$M" --provider cpu --out "$W/bundle-$px"; then
    step torch-adm-$px 60 "$PY" tools/gpu/torch_loop.py --model "$M" --arch adm --bundle "$W/bundle-$px" --label adm-random --device $DEVICE --iterations 200 && grep '^{' "$OUT/torch-adm-$px.txt" >"$OUT/torch-adm-$px.json"
  fi
  step check-adm-$px 40 $LAGRANGE models check "$M" --provider $PROVIDER --json
  step rows-adm-$px 15 $BENCH rows --prior "$M" --label adm-random --provider $PROVIDER --budget-ms 3000 --max-iterations 40 --out "$OUT/rows-adm-$px.jsonl"
  table
done
# The bundled prior's rows on WebGPU with what is left: small, so the non-network maths shows.
[ "$DRY" = 1 ] || step rows-fmnist-32 10 $BENCH rows --prior fmnist-32 --label fmnist-32 --provider $PROVIDER --budget-ms 1500 --max-iterations 100 --out "$OUT/rows-fmnist-32.jsonl"
table
cat "$OUT/gpu-table.md" 2>/dev/null
log "done, $(left) s of ${BUDGET} s left"
