#!/usr/bin/env bash
# The README demo: the upstream fine-tuning workflow on a tiny LLaMA, end to end on a CPU.
#   make data + tokenizer -> alpaca_converter.py -> llama_preprocess.py (wiki and qa) -> MindRecord
#   -> run_mindformer.py --run_mode train (short pre-training) -> --run_mode finetune -> --run_mode predict
#   -> score the answers to held-out questions.
# Everything goes to ./demo_workdir (override with WORK=...). Takes about 6 minutes on 2 CPU cores.
# QUICKSTART_SAMPLES (default 3000), QUICKSTART_PRETRAIN_EPOCHS and QUICKSTART_FINETUNE_EPOCHS (default: the
# YAMLs' 2 and 4) shrink the demo; the test suite runs it smaller, the README's numbers are of the defaults.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
WORK=$(realpath -m "${WORK:-demo_workdir}")
DATA=$WORK/data
PY=${PYTHON:-python3}
export GLOG_v=${GLOG_v:-3}
rm -rf "$WORK"
mkdir -p "$DATA"
step() { echo; echo "==== $* ===="; }
SAMPLES=${QUICKSTART_SAMPLES:-3000}
PRETRAIN_EPOCHS=()
[ -n "${QUICKSTART_PRETRAIN_EPOCHS:-}" ] && PRETRAIN_EPOCHS=(--runner_config.epochs "$QUICKSTART_PRETRAIN_EPOCHS")
FINETUNE_EPOCHS=()
[ -n "${QUICKSTART_FINETUNE_EPOCHS:-}" ] && FINETUNE_EPOCHS=(--runner_config.epochs "$QUICKSTART_FINETUNE_EPOCHS")

step "1/7 make instruction data (Alpaca format) and held-out questions"
$PY scripts/quickstart/make_data.py --output_dir "$DATA" --num_samples "$SAMPLES" --seed 0

step "2/7 train a sentencepiece tokenizer on the corpus"
$PY scripts/quickstart/train_tokenizer.py --input "$DATA/corpus.txt" --model_prefix "$DATA/tokenizer" --vocab_size 1000

step "3/7 alpaca_converter.py: Alpaca JSON -> conversations"
$PY mindformers/tools/dataset_preprocess/llama/alpaca_converter.py --data_path "$DATA/train.json" \
    --output_path "$DATA/train_conversation.json"

step "4/7 llama_preprocess.py: corpus (wiki) and conversations (qa) -> MindRecord"
$PY mindformers/tools/dataset_preprocess/llama/llama_preprocess.py --dataset_type wiki --input_glob "$DATA/corpus.txt" \
    --model_file "$DATA/tokenizer.model" --seq_length 96 --output_file "$DATA/wiki.mindrecord"
$PY mindformers/tools/dataset_preprocess/llama/llama_preprocess.py --dataset_type qa \
    --input_glob "$DATA/train_conversation.json" --model_file "$DATA/tokenizer.model" --seq_length 96 \
    --output_file "$DATA/train.mindrecord"

step "5/7 pre-train (run_mode train)"
$PY run_mindformer.py --config configs/llama2/pretrain_llama2_quickstart.yaml --run_mode train \
    --train_dataset_dir "$DATA/wiki.mindrecord" --output_dir "$WORK/output_pretrain" ${PRETRAIN_EPOCHS[@]+"${PRETRAIN_EPOCHS[@]}"}

step "6/7 fine-tune from the pre-trained checkpoint (run_mode finetune)"
$PY run_mindformer.py --config configs/llama2/finetune_llama2_quickstart.yaml --run_mode finetune \
    --load_checkpoint "$WORK/output_pretrain/checkpoint" --train_dataset_dir "$DATA/train.mindrecord" \
    --output_dir "$WORK/output_finetune" --processor.tokenizer.vocab_file "$DATA/tokenizer.model" \
    ${FINETUNE_EPOCHS[@]+"${FINETUNE_EPOCHS[@]}"}

step "7/7 predict the held-out questions (run_mode predict) and score them"
$PY -c "import json,sys; [print(h['prompt'].replace('\n', '\\\\n')) for h in json.load(open(sys.argv[1]))]" \
    "$DATA/heldout.json" > "$DATA/heldout_prompts.txt"
(cd "$WORK" && $PY "$ROOT/run_mindformer.py" --config "$ROOT/configs/llama2/finetune_llama2_quickstart.yaml" --run_mode predict \
    --load_checkpoint output_finetune/checkpoint --predict_data data/heldout_prompts.txt --predict_batch_size 8 \
    --output_dir output_predict --processor.tokenizer.vocab_file data/tokenizer.model) > "$WORK/predict.log"
tail -n 1 "$WORK/predict.log" | cut -c1-200
$PY scripts/quickstart/check_answers.py --heldout "$DATA/heldout.json" --predictions "$WORK/text_generation_result.txt"
